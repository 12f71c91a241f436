"""The backtest folder: list HTML reports and JSON results, open one, read two to compare.

Only plain files directly inside the configured folder are served, by name; a name with a path
separator or a leading dot is refused, so no request can read outside the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphadesk.domain.errors import InvalidField

KINDS = {".html": "report", ".json": "result"}
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BacktestFile:
    name: str
    kind: str
    size: int
    modified: datetime


class BacktestFolder:
    def __init__(self, root: Path) -> None:
        self._root = root

    def list(self) -> list[BacktestFile]:
        if not self._root.is_dir():
            return []
        files = []
        for path in self._root.iterdir():
            kind = KINDS.get(path.suffix.lower())
            if kind and path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                files.append(BacktestFile(path.name, kind, stat.st_size,
                                          datetime.fromtimestamp(stat.st_mtime, UTC)))  # fmt: skip
        return sorted(files, key=lambda f: (f.modified, f.name), reverse=True)

    def path(self, name: str, kind: str | None = None) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
            raise InvalidField("name", name, "must be a file name inside the backtest folder")
        found = KINDS.get(Path(name).suffix.lower())
        if found is None or (kind is not None and found != kind):
            raise InvalidField("name", name, f"must name a {kind or 'report or result'} file")
        path = self._root / name
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise FileNotFoundError(name)
        return path

    def result(self, name: str) -> dict[str, Any]:
        data = json.loads(self.path(name, "result").read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise InvalidField("name", name, "is not a backtest result (a JSON object)")
        return data
