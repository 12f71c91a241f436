"""The progress display: a rich bar on a terminal, plain lines elsewhere, same figures."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from alphadesk.app.sync_progress import SyncDisplay
from alphadesk.engine.sync import AccountTotals, Pressure, WindowRead


class _Source:
    async def read_window(self, start: datetime, end: datetime) -> WindowRead:
        return WindowRead(())

    def pressure(self) -> Pressure:
        return Pressure(requests=40, waits=7)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _totals() -> AccountTotals:
    return AccountTotals("lxalgo_001", windows=14, windows_done=3, windows_skipped=2,
                         fetched=1200, added=1100)


def test_off_a_terminal_each_window_is_one_plain_line() -> None:
    out = io.StringIO()
    start = datetime(2026, 9, 10, tzinfo=UTC)
    with SyncDisplay({"lxalgo_001": _Source()}, stream=out) as display:
        display.on_window(_totals(), start, start + timedelta(days=7))
    line = out.getvalue()
    assert line.count("\n") == 1 and "\x1b[" not in line
    assert line.startswith("sync lxalgo_001: 2026-09-10 00:00..2026-09-17 00:00 window 3/12")
    assert "1200 executions" in line and "+1100 rows" in line and "7 rate-limit waits" in line


def test_on_a_terminal_a_bar_shows_rate_rows_and_waits() -> None:
    out = _Terminal()
    start = datetime(2026, 9, 10, tzinfo=UTC)
    with SyncDisplay({"lxalgo_001": _Source()}, stream=out) as display:
        display.on_window(_totals(), start, start + timedelta(days=7))
    shown = out.getvalue()
    assert "lxalgo_001" in shown and "3/12" in shown
    assert "exec/s" in shown and "+1100 rows" in shown and "7 rate-limit waits" in shown
