"""The demo's live progress: a ``rich`` panel on a terminal, plain lines elsewhere.

The panel shows the simulated clock, bars replayed, the listener's count of executions stored,
and per bot its orders, fills and PnL (its own book: equity less starting capital, open positions
marked at the last close). Off a terminal (a pipe, CI) each phase and every tenth of the replay
is one line, so the output stays readable and greppable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from alphadesk.app.demo.outcome import Snapshot
from alphadesk.app.terminal_display import TerminalDisplay


def _pnl(value: object) -> str:
    return f"{value:+,.2f}"


class DemoDisplay(TerminalDisplay[Live]):
    """A :class:`alphadesk.app.demo.outcome.Progress`; use as a context manager around the run."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        out = stream or sys.stdout
        super().__init__(out, out.isatty() if live is None else live)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._phase = ""
        self._tenth = -1
        self._began = time.monotonic()

    def _build(self) -> Live:
        self._bar = Progress(TextColumn("[bold]replay"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[clock]}"))
        self._task = self._bar.add_task("replay", total=None, clock="")
        return Live(Group(self._bar), console=Console(file=self._stream),
                    refresh_per_second=8, transient=False)

    def update(self, snapshot: Snapshot) -> None:
        if self._shown is not None and self._bar is not None and self._task is not None:
            clock = f"{snapshot.clock:%Y-%m-%d %H:%M} UTC" if snapshot.clock else ""
            self._bar.update(self._task, total=snapshot.total_steps or None,
                             completed=snapshot.steps, clock=clock)
            self._shown.update(Group(self._bar, self._table(snapshot)))
            return
        self._plain(snapshot)

    def _table(self, snap: Snapshot) -> Table:
        table = Table(title=f"{snap.phase} · {snap.bars:,} bars replayed · "
                            f"{snap.recorded:,} executions in the ledger",
                      title_justify="left")
        for column in ("bot", "strategy", "market", "orders", "fills", "open", "PnL (USDT)"):
            table.add_column(column, justify="left" if column in ("bot", "strategy") else "right")
        for b in snap.bots:
            table.add_row(b.bot_id, b.strategy, b.market, f"{b.orders:,}", f"{b.fills:,}",
                          str(b.open_positions), _pnl(b.pnl))
        return table

    def _plain(self, snap: Snapshot) -> None:
        tenth = snap.steps * 10 // snap.total_steps if snap.total_steps else 0
        if snap.phase == self._phase and (snap.phase != "replaying" or tenth == self._tenth):
            return
        self._phase, self._tenth = snap.phase, tenth
        line = f"demo {time.monotonic() - self._began:6.1f}s: {snap.phase}"
        if snap.clock is not None and snap.steps:
            bots = ", ".join(f"{b.bot_id} {b.orders} orders {b.fills} fills {_pnl(b.pnl)}"
                             for b in snap.bots)
            line += (f" | {snap.clock:%Y-%m-%d %H:%M} UTC, step {snap.steps:,}/"
                     f"{snap.total_steps:,}, {snap.bars:,} bars, {snap.recorded:,} recorded"
                     f" | {bots}")
        print(line, file=self._stream, flush=True)
