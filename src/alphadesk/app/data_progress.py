"""The progress of ``alphadesk data download``: a ``rich`` bar per symbol and series on a
terminal, one plain line per finished series elsewhere (a log file, CI), as ``sync`` does."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn


class DownloadDisplay:
    """A :data:`alphadesk.adapters.market_store.download.Progress`; a context manager."""

    def __init__(self, *, stream: TextIO | None = None, force_bar: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._bar = force_bar or self._stream.isatty()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._finished: set[str] = set()

    def __enter__(self) -> DownloadDisplay:
        if self._bar:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                console=Console(file=self._stream), transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, task: str, done: int, total: int) -> None:
        if self._progress is not None:
            if task not in self._tasks:
                self._tasks[task] = self._progress.add_task(task, total=max(total, 1))
            self._progress.update(self._tasks[task], completed=done if total else 1,
                                  total=max(total, 1))
            return
        if done >= total and task not in self._finished:
            self._finished.add(task)
            print(f"{task}: {total} to fetch, done", file=self._stream, flush=True)
