"""The progress of ``alphadesk data download``: a ``rich`` bar per symbol and series on a
terminal, one plain line per finished series elsewhere (a log file, CI), as ``sync`` does."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.progress import Progress, TaskID

from alphadesk.app.terminal_display import TerminalDisplay, bars


class DownloadDisplay(TerminalDisplay[Progress]):
    """A :data:`alphadesk.adapters.market_store.download.Progress`; a context manager."""

    def __init__(self, *, stream: TextIO | None = None, force_bar: bool = False) -> None:
        out = stream or sys.stderr
        super().__init__(out, force_bar or out.isatty())
        self._tasks: dict[str, TaskID] = {}
        self._finished: set[str] = set()

    def _build(self) -> Progress:
        return bars(self._stream)

    def __call__(self, task: str, done: int, total: int) -> None:
        if self._shown is not None:
            if task not in self._tasks:
                self._tasks[task] = self._shown.add_task(task, total=max(total, 1))
            self._shown.update(self._tasks[task], completed=done if total else 1,
                                  total=max(total, 1))
            return
        if done >= total and task not in self._finished:
            self._finished.add(task)
            print(f"{task}: {total} to fetch, done", file=self._stream, flush=True)
