"""The progress of ``alphadesk sync``: a ``rich`` bar per bot on a terminal, plain lines elsewhere.

The bar shows windows done of those to do, executions per second since the start, rows added
and the rate-limit waits of that bot's client (the gate's and 10006 back-offs), the things an
operator watches in a long backfill. Off a terminal (a log file, CI) each finished window is one
line with the same figures, so the output stays readable and greppable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Self, TextIO

from rich.progress import Progress, TaskID, TextColumn

from alphadesk.app.terminal_display import TerminalDisplay, bars
from alphadesk.engine.sync import AccountTotals, HistorySource


def _rate(fetched: int, since: float) -> float:
    elapsed = time.monotonic() - since
    return fetched / elapsed if elapsed > 0 else 0.0


class SyncDisplay(TerminalDisplay[Progress]):
    """An :class:`alphadesk.engine.sync.Progress`; use as a context manager around the sync."""

    def __init__(self, sources: Mapping[str, HistorySource], *,
                 stream: TextIO | None = None) -> None:
        out = stream or sys.stderr
        super().__init__(out, out.isatty())
        self._sources = dict(sources)
        self._started = time.monotonic()
        self._tasks: dict[str, TaskID] = {}

    def _build(self) -> Progress:
        return bars(self._stream, TextColumn("{task.fields[rate]:>8.0f} exec/s"),
                    TextColumn("+{task.fields[added]} rows"),
                    TextColumn("{task.fields[waits]} rate-limit waits"))

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        return super().__enter__()

    def on_window(self, totals: AccountTotals, start: datetime, end: datetime) -> None:
        source = self._sources.get(totals.bot_id)
        waits = source.pressure().waits if source is not None else 0
        rate = _rate(totals.fetched, self._started)
        todo = totals.windows - totals.windows_skipped
        if self._shown is not None:
            task = self._tasks.get(totals.bot_id)
            if task is None:
                task = self._shown.add_task(totals.bot_id, total=todo, rate=0.0, added=0,
                                               waits=0)
                self._tasks[totals.bot_id] = task
            self._shown.update(task, completed=totals.windows_done, rate=rate,
                                  added=totals.added, waits=waits)
            return
        print(
            f"sync {totals.bot_id}: {start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} "
            f"window {totals.windows_done}/{todo}, {totals.fetched} executions "
            f"({rate:.0f}/s), +{totals.added} rows, {waits} rate-limit waits",
            file=self._stream, flush=True,
        )
