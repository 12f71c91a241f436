"""The gap-fill's per-account watermarks, kept in a small JSON file: the storage side of
:class:`~alphadesk.engine.gapfill.Watermarks`."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path


class FileWatermarks:
    """Gap-fill watermarks in one small JSON file (next to the spool: the same volume, the same
    durability). Each update is written to a temporary file, fsynced and renamed over the old."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raw = {}
        self._marks = {k: datetime.fromisoformat(v) for k, v in raw.items()}

    def get(self, account: str) -> datetime | None:
        return self._marks.get(account)

    def set(self, account: str, mark: datetime) -> None:
        self._marks[account] = mark
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as handle:
            json.dump({k: v.isoformat() for k, v in self._marks.items()}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
