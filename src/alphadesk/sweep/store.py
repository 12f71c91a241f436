"""The sweep's results file: one JSON line per finished backtest, keyed by window and parameters.

Appended and flushed as each outcome arrives, so a sweep stopped any way (Ctrl-C, a kill, a lost
machine) keeps what it finished, and the same command run again skips those. A torn last line
(the process died mid-write) is cut on open. ``manifest.json`` beside it holds the fingerprint of
what decides a backtest's result (strategy, fixed parameters, the data's content, the backtest
settings): a folder holding another sweep's results is refused rather than mixed in, and so is
a folder another running sweep holds (an advisory lock on ``.lock``).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, TextIO

from alphadesk.domain.errors import InvalidField
from alphadesk.sweep.task import Outcome, Task

RESULTS = "results.jsonl"
MANIFEST = "manifest.json"
LOCK = ".lock"


class JsonlResults:
    """:class:`~alphadesk.sweep.ports.ResultLog` in ``folder/results.jsonl``."""

    def __init__(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # one sweep per folder at a time: two would run the same backtests twice
        self._lock = (folder / LOCK).open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise InvalidField("--out", str(folder), "is in use by another running sweep") from None
        try:
            self._open(folder, fingerprint)
        except BaseException:
            self._lock.close()
            raise

    def _open(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        manifest = folder / MANIFEST
        if manifest.exists():
            kept = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
            if kept != fingerprint:
                differs = sorted(
                    k for k in set(kept or {}) | set(fingerprint)
                    if (kept or {}).get(k) != fingerprint.get(k)
                )
                raise InvalidField(
                    "--out", str(folder),
                    f"holds the results of another sweep (its {', '.join(differs)} differ); "
                    "choose another folder or delete it",
                )
        else:
            manifest.write_text(
                json.dumps({"fingerprint": fingerprint}, sort_keys=True, indent=1) + "\n",
                encoding="utf-8",
            )
        self._done: dict[str, Outcome] = {}
        self.path = folder / RESULTS
        self._load()
        self._file: TextIO = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        good = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn by a stop mid-write: cut below
            try:
                row = json.loads(line)
            except ValueError:
                break
            self._done[row["key"]] = Outcome(
                row["key"], row["summary"], row.get("error"), float(row.get("cpu_s", 0.0))
            )
            good += len(line)
        if good != len(raw):
            with self.path.open("r+b") as f:
                f.truncate(good)

    @property
    def count(self) -> int:
        return len(self._done)

    def get(self, key: str) -> Outcome | None:
        return self._done.get(key)

    def add(self, task: Task, outcome: Outcome) -> None:
        row = {
            "key": outcome.key,
            "phase": task.phase,
            "fold": task.fold,
            "window": [task.start_ms, task.end_ms],
            "params": dict(task.params),
            "summary": outcome.summary,
            "error": outcome.error,
            "cpu_s": round(outcome.cpu_s, 6),
        }
        self._file.write(json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._done[outcome.key] = outcome

    def close(self) -> None:
        self._file.close()
        self._lock.close()
