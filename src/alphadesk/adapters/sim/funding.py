"""Funding settlements: when a symbol settles, and what a position pays there.

Bybit settles each USDT perpetual on its own interval (``fundingInterval`` in instruments-info:
1, 2, 4 or 8 hours, aligned to 00:00 UTC). A symbol's :class:`FundingSchedule` is that grid, except
inside the span of a recorded rate history, where the recorded settlement times are the schedule:
a history that changes interval part-way is charged where Bybit actually settled.

A position pays (or receives) at a settlement only if it was open *before* it, so a position
opened exactly at a settlement time first pays at the next one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise

from alphadesk.domain.enums import Side

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DEFAULT_INTERVAL_MS = 8 * HOUR_MS


def next_boundary(ts_ms: int, interval_ms: int) -> int:
    """The first boundary strictly after ``ts_ms`` (boundaries are multiples of the interval)."""
    return (ts_ms // interval_ms + 1) * interval_ms


def inferred_interval_ms(times: Iterable[int]) -> int | None:
    """The most common spacing of sorted settlement times, when it divides a day (else None).

    Ties go to the shorter spacing: a history with as many 4-hour as 8-hour steps is taken to
    settle every 4 hours (the 8-hour steps are then more likely holes than the rule)."""
    ordered = sorted(set(times))
    steps = Counter(b - a for a, b in pairwise(ordered))
    if not steps:
        return None
    step = min(steps, key=lambda s: (-steps[s], s))
    return step if 0 < step <= DAY_MS and DAY_MS % step == 0 else None


def hours(interval_ms: int) -> str:
    """``8 h``, ``4 h``, ``30 min``: how a summary names an interval."""
    if interval_ms % HOUR_MS:
        return f"{interval_ms // 60_000} min"
    return f"{interval_ms // HOUR_MS} h"


class FundingSchedule:
    """One symbol's settlement times: the ``interval_ms`` grid outside the recorded ``times``'
    span, the recorded times inside it (sorted, distinct epoch ms)."""

    __slots__ = ("interval_ms", "times")

    def __init__(self, interval_ms: int, times: Iterable[int] = ()) -> None:
        self.interval_ms = interval_ms
        self.times: list[int] = sorted(set(times))

    def add(self, ts_ms: int) -> bool:
        """Record a settlement time; False when it was already there."""
        times = self.times
        i = bisect_left(times, ts_ms)
        if i < len(times) and times[i] == ts_ms:
            return False
        times.insert(i, ts_ms)
        return True

    def next_after(self, ts_ms: int) -> int:
        """The first settlement strictly after ``ts_ms``."""
        times = self.times
        if times and times[0] <= ts_ms < times[-1]:  # inside the recorded span
            return times[bisect_right(times, ts_ms)]
        nxt = (ts_ms // self.interval_ms + 1) * self.interval_ms
        if times and ts_ms < times[0] < nxt:  # the grid runs into the recorded span
            return times[0]
        return nxt

    def between(self, start_ms: int, end_ms: int) -> list[int]:
        """Every settlement in ``(start_ms, end_ms]``, oldest first.

        What chaining :meth:`next_after` from ``start_ms`` gives, computed in three slices (the
        grid before the recorded span, the recorded times, the grid after it) rather than one
        call per settlement: a backtest asks for a million bars' worth of them at once."""
        if end_ms <= start_ms:
            return []
        interval = self.interval_ms
        times = self.times
        if not times:
            return list(range((start_ms // interval + 1) * interval, end_ms + 1, interval))
        first, last = times[0], times[-1]
        # grid points strictly before the first record (one on it is the record itself)
        before = range((start_ms // interval + 1) * interval, min(end_ms, first - 1) + 1, interval)
        recorded = times[bisect_right(times, start_ms) : bisect_right(times, end_ms)]
        after = range((max(start_ms, last) // interval + 1) * interval, end_ms + 1, interval)
        return [*before, *recorded, *after]


def funding_fee(signed_qty: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What the position pays: longs pay a positive rate, shorts receive it (negative fee)."""
    return signed_qty * mark * rate


def funding_side(signed_qty: Decimal) -> Side:
    return Side.BUY if signed_qty > 0 else Side.SELL
