"""What a series of bar open times really is: its interval, its holes, its repeats; resampling.

A candle file's name may claim ``_5m_`` while its rows are four hours apart; a strategy built for
4-hour bars must not be fed 5-minute ones as if they were 4-hour bars. These functions look at
the timestamps themselves, so the loader can say what it found (with counts and positions) and
turn finer bars into the strategy's own, on the same 00:00 UTC grid Bybit uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MINUTE_MS = 60_000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def infer_interval_min(ts_ms: IntArray) -> int | None:
    """The bar interval in minutes: the most common step between consecutive distinct open
    times (gaps make some steps longer, never shorter), or None with fewer than two bars."""
    unique = np.unique(ts_ms)
    if len(unique) < 2:
        return None
    steps, counts = np.unique(np.diff(unique), return_counts=True)
    step = int(steps[int(np.argmax(counts))])  # ties: the smallest step, np.unique sorts
    if step % MINUTE_MS:
        return None
    return step // MINUTE_MS


@dataclass(frozen=True, slots=True)
class Hole:
    """``missing`` bars absent after the bar opening at ``after_ms`` (next bar at ``next_ms``)."""

    after_ms: int
    next_ms: int
    missing: int


def gaps(ts_ms: IntArray, interval_min: int) -> list[Hole]:
    """Holes in a sorted, duplicate-free series of open times."""
    if len(ts_ms) < 2:
        return []
    step = interval_min * MINUTE_MS
    diffs = np.diff(ts_ms)
    where = np.flatnonzero(diffs > step)
    return [
        Hole(int(ts_ms[i]), int(ts_ms[i + 1]), int(diffs[i] // step) - 1) for i in where.tolist()
    ]


def duplicates(ts_ms: IntArray) -> IntArray:
    """Row positions (0-based) whose open time repeats an earlier row's."""
    order = np.argsort(ts_ms, kind="stable")
    ordered = ts_ms[order]
    repeat = np.zeros(len(ts_ms), dtype=bool)
    if len(ts_ms) > 1:
        repeat[1:] = ordered[1:] == ordered[:-1]
    out: IntArray = np.sort(order[repeat]).astype(np.int64)
    return out


@dataclass(frozen=True, slots=True)
class Resampled:
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    dropped_head: int
    """Bars before the first complete bucket that were left out."""
    dropped_tail: int
    """Bars of the incomplete last bucket that were left out."""


def resample(
    ts_ms: IntArray,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    v: FloatArray,
    from_min: int,
    to_min: int,
) -> Resampled:
    """Aggregate sorted ``from_min`` bars into ``to_min`` buckets aligned to 00:00 UTC (epoch
    multiples): first open, highest high, lowest low, last close, summed volume.

    A bucket at either end that is not complete (fewer than ``to_min / from_min`` bars) is
    dropped: a half-formed first or last bar would be a bar no exchange ever printed. A bucket
    inside the series with a hole keeps the bars it has (the hole is reported as a gap).
    """
    if to_min % from_min:
        raise ValueError(f"{to_min} min is not a multiple of {from_min} min")
    per = to_min // from_min
    bucket = ts_ms // (to_min * MINUTE_MS)
    if not len(ts_ms):
        empty = np.empty(0)
        return Resampled(ts_ms[:0], empty, empty, empty, empty, empty, 0, 0)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    sizes = np.diff(np.r_[starts, len(ts_ms)])
    first, last = 0, len(starts)
    head = tail = 0
    if sizes[0] < per:
        head = int(sizes[0])
        first = 1
    if last > first and sizes[-1] < per:
        tail = int(sizes[-1])
        last -= 1
    starts = starts[first:last]
    if not len(starts):
        empty = np.empty(0)
        return Resampled(ts_ms[:0], empty, empty, empty, empty, empty, head, tail)
    ends = np.r_[starts[1:], starts[-1] + sizes[first:last][-1]]
    out_ts = (bucket[starts] * to_min * MINUTE_MS).astype(np.int64)
    return Resampled(
        out_ts,
        o[starts].astype(np.float64),
        _reduce(np.maximum, h, starts, ends),
        _reduce(np.minimum, lo, starts, ends),
        c[ends - 1].astype(np.float64),
        _reduce(np.add, v, starts, ends),
        head,
        tail,
    )


def _reduce(fn: np.ufunc, values: FloatArray, starts: IntArray, ends: IntArray) -> FloatArray:
    cut = values[: int(ends[-1])]
    out: FloatArray = fn.reduceat(cut, starts).astype(np.float64)
    return out

