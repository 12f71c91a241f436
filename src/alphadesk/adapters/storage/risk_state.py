"""A durable :class:`~alphadesk.engine.ports.StateStore` in one JSON file: the kill switch's home.

The kill switch decides inside a bar and cannot await, so its store is synchronous. A file
written atomically (temporary file, fsync, rename, fsync of the folder) survives a crash at any
point with either the old or the new content, needs no server, and is read once at start-up.
The state word is mirrored into ``trading.bots.status`` too (see :mod:`alphadesk.app.bot`), so a
lost file still comes back HALTED/REDUCING from SQL.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from alphadesk.domain.errors import InvalidField


class FileStateStore:
    def __init__(self, path: Path, *, field: str = "risk_state.path") -> None:
        """``field`` names the file in errors (the same store keeps other small durable state)."""
        self.path = path
        self._data: dict[str, str] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InvalidField(field, str(path), f"unreadable: {exc}") from None
            if not isinstance(loaded, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
            ):
                raise InvalidField(field, str(path), "must hold a JSON object of text")
            self._data = dict(loaded)

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def set(self, key: str, value: str) -> None:
        if self._data.get(key) == value:
            return
        self._data[key] = value
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(self._data, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):  # not every platform can fsync a folder
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
