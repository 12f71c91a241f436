"""UTC calendar periods of epoch-ms instants: the day, ISO week and month a rule resets on.

Strategies reset counters and drawdown baselines "at 00:00 UTC", "on Monday", "when the month
changes". Doing it with integer keys of ``now_ms`` (never the wall clock) keeps a backtest and a
live run in step. A bar *belongs* to the period it opened in (``bar_period_ms``): the 23:55 bar
that closes at 00:00 is yesterday's.
"""

from __future__ import annotations

from datetime import UTC, datetime

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
_MONDAY_OFFSET_MS = 3 * DAY_MS  # 1970-01-01 was a Thursday; 1970-01-05 a Monday


def day_key(ms: int) -> int:
    """Days since the epoch of the UTC date containing ``ms``."""
    return ms // DAY_MS


def week_key(ms: int) -> int:
    """ISO weeks (Monday 00:00 UTC starts) since the epoch's week."""
    return (ms + _MONDAY_OFFSET_MS) // (7 * DAY_MS)


def month_key(ms: int) -> int:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.year * 12 + moment.month - 1


def bucket_key(ms: int, hours: int, start_hour: int = 0) -> int:
    """Fixed ``hours``-long UTC buckets starting at ``start_hour`` (00-04, 04-08 ... for 4, 0)."""
    return (ms - start_hour * HOUR_MS) // (hours * HOUR_MS)


def floor_to(ms: int, step_ms: int) -> int:
    """``ms`` floored to the bar grid: a fill 300 ms after a close counts from that close.

    Ages measured from a fill time floored this way are whole bars in a backtest (fill at the
    next open) and live (fill a moment after the close) alike, so "age >= 8 h" fires on the same
    bar in both.
    """
    return ms - ms % step_ms
