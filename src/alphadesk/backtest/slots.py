"""The backtest loop's per-symbol columns, and how far the loop may jump over quiet bars.

A :class:`Slot` holds one symbol's bars as flat machine arrays (the loop reads them only at the
steps it visits, often a small part of a long series: indexing one gives the same int or float
a list would, without a million Python objects), its wake masks, and the step of each mask bar
and funding bar, sorted, so the next one after any step is a bisection away.

:func:`quiet_until` finds where a quiet stretch ends: the first step at which a bar of a symbol
with something resting reaches the engine's band (``MatchingEngine.quiet_bounds``). Most
stretches end within a few bars (a position's running extreme moves often), so the first
:data:`FIRST_ONE_BY_ONE` are looked at one by one; past them the bars go through numpy in chunks,
:data:`CHUNK` bars first, then :data:`CHUNKS_AT_ONCE` chunks at a time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Flags = bytes
"""A per-bar mask: ``flags[i]`` is 1 or 0."""

FIRST_ONE_BY_ONE = 16
CHUNK = 256
CHUNKS_AT_ONCE = 4


def flags(mask: BoolArray) -> Flags:
    return np.ascontiguousarray(mask, dtype=np.bool_).tobytes()


def floats(values: FloatArray) -> Sequence[float]:
    """``values`` as float64, read where they lie: a memoryview of the contiguous array (a copy
    only when ``values`` is not one already). Indexing it gives the float a copy into an
    ``array('d')`` gave, at about the same cost per read, and the bars are not copied: six
    columns of a million bars were some 10 M instructions per symbol and run. The loop only
    reads its columns, and nothing writes the run's bars while it goes."""
    view: Sequence[float] = np.ascontiguousarray(values, dtype=np.float64).data
    return view


def ints(values: IntArray) -> Sequence[int]:
    """``values`` as int64, read where they lie (see :func:`floats`)."""
    view: Sequence[int] = np.ascontiguousarray(values, dtype=np.int64).data
    return view


class Slot:
    """One symbol in the loop. ``index[k]`` is its bar at timeline step ``k`` (-1: none),
    ``latest[k]`` its latest bar at or before ``k``, ``steps[i]`` the step of bar ``i``;
    ``flat_steps``/``hold_steps``/``boundary_steps`` the steps of its wake bars (flat and
    holding; None: every bar) and funding bars; ``low_t``/``high_t`` its lows and highs by step
    (+inf/-inf where it has no bar, which reach no band)."""

    __slots__ = (
        "boundary",
        "boundary_at",
        "boundary_steps",
        "c",
        "call_flat",
        "call_holding",
        "flat_at",
        "flat_steps",
        "funding_ms",
        "funding_step",
        "h",
        "high_t",
        "hold_at",
        "hold_steps",
        "index",
        "latest",
        "lo",
        "low_t",
        "next_boundary",
        "next_flat",
        "next_hold",
        "o",
        "row",
        "steps",
        "symbol",
        "timeline_len",
        "ts",
        "v",
    )

    def __init__(
        self,
        symbol: str,
        in_timeline: IntArray,
        ts: IntArray,
        o: FloatArray,
        h: FloatArray,
        lo: FloatArray,
        c: FloatArray,
        v: FloatArray,
        row: Any,
        flat: BoolArray | None,
        holding: BoolArray | None,
        boundary: BoolArray,
    ) -> None:
        n = len(ts)
        timeline_len = len(in_timeline)
        aligned = n == timeline_len and bool((in_timeline == np.arange(n)).all())
        self.symbol = symbol
        self.ts = ints(ts)
        self.o = floats(o)
        self.h = floats(h)
        self.lo = floats(lo)
        self.c = floats(c)
        self.v = floats(v)
        self.row = row
        self.call_flat: Flags | None = None if flat is None else flags(flat)
        self.call_holding: Flags | None = None if holding is None else flags(holding)
        self.boundary = flags(boundary)
        bar_steps: IntArray
        self.index: Sequence[int]
        self.latest: Sequence[int]
        self.steps: Sequence[int]
        if aligned:
            self.index = self.latest = self.steps = range(n)
            bar_steps = np.arange(n, dtype=np.int64)
            self.low_t: FloatArray = np.ascontiguousarray(lo, dtype=np.float64)
            self.high_t: FloatArray = np.ascontiguousarray(h, dtype=np.float64)
        else:
            present = in_timeline >= 0
            bar_steps = np.flatnonzero(present).astype(np.int64)
            self.index = ints(in_timeline)
            self.latest = ints(np.maximum.accumulate(in_timeline))
            self.steps = ints(bar_steps)
            self.low_t = np.full(timeline_len, np.inf)
            self.high_t = np.full(timeline_len, -np.inf)
            self.low_t[present] = lo[in_timeline[present]]
            self.high_t[present] = h[in_timeline[present]]
        self.flat_steps = None if flat is None else ints(bar_steps[flat])
        self.hold_steps = None if holding is None else ints(bar_steps[holding])
        self.boundary_steps = ints(bar_steps[boundary])
        self.timeline_len = timeline_len
        # the answers of the last look-ups: the loop only moves forward, so one stays right
        # for every start up to it
        self.next_flat = self.next_hold = self.next_boundary = -1
        self.flat_at = self.hold_at = self.boundary_at = -1  # where in the steps they were
        self.funding_ms = self.funding_step = -1

    def wake_from(self, held: bool, start: int) -> int:
        """The first step at or after ``start`` where the mask of the state (holding when
        ``held``) is set, ``start`` itself when that mask is every bar; the timeline's end when
        none is. ``start`` must not go back between calls."""
        if held:
            if self.hold_steps is None:
                return start
            found = self.next_hold
            if found < start:
                found, self.hold_at = next_step_from(
                    self.hold_steps, start, self.timeline_len, self.hold_at
                )
                self.next_hold = found
            return found
        if self.flat_steps is None:
            return start
        found = self.next_flat
        if found < start:
            found, self.flat_at = next_step_from(
                self.flat_steps, start, self.timeline_len, self.flat_at
            )
            self.next_flat = found
        return found

    def boundary_from(self, start: int) -> int:
        """The first funding bar's step at or after ``start`` (as :meth:`wake_from`)."""
        found = self.next_boundary
        if found < start:
            found, self.boundary_at = next_step_from(
                self.boundary_steps, start, self.timeline_len, self.boundary_at
            )
            self.next_boundary = found
        return found

    def bar_from(self, start: int) -> int:
        """The step of this symbol's first bar at or after step ``start``; the timeline's end
        if it has none."""
        return next_step(self.steps, start, self.timeline_len)

    def step_from(self, ms: int) -> int:
        """The step of this symbol's first bar opening at or after ``ms`` (a funding time); the
        timeline's end if none does."""
        if ms != self.funding_ms:
            i = bisect_left(self.ts, ms)
            self.funding_ms = ms
            self.funding_step = self.steps[i] if i < len(self.ts) else self.timeline_len
        return self.funding_step


def next_step(steps: Sequence[int], start: int, none: int) -> int:
    """The first of the sorted ``steps`` at or after ``start``; ``none`` when there is none."""
    at = bisect_left(steps, start)
    return steps[at] if at < len(steps) else none


def next_step_from(
    steps: Sequence[int], start: int, none: int, after: int
) -> tuple[int, int]:
    """:func:`next_step` and the index it is at (``len(steps)`` for ``none``), for a caller whose
    ``start`` never goes back and whose previous answer, at index ``after`` (-1 at first), lies
    before ``start`` now (it asks only then), so every step up to it does. The few steps just
    after it are looked at one by one first (the next wake bar is nearly always among them: a
    bisection reads a dozen), then the rest is bisected."""
    n = len(steps)
    at = after + 1
    probe_end = min(at + 4, n)
    while at < probe_end:
        step = steps[at]
        if step >= start:
            return step, at
        at += 1
    if at < n:
        at = bisect_left(steps, start, at)
        if at < n:
            return steps[at], at
    return none, n


def quiet_until(start: int, cap: int, watched: list[tuple[Slot, float, float]]) -> int:
    """The first step in ``[start, cap)`` at which a watched slot's bar has ``low <= fall`` or
    ``high >= rise`` (``(slot, fall, rise)`` each); ``cap`` when none has."""
    if not watched:
        return cap
    j = start
    stop = min(start + FIRST_ONE_BY_ONE, cap)
    while j < stop:
        for slot, fall, rise in watched:
            i = slot.index[j]
            if i >= 0 and (slot.lo[i] <= fall or slot.h[i] >= rise):
                return j
        j += 1
    width = CHUNK
    while j < cap:
        limit = min(j + width, cap)
        end = limit
        for slot, fall, rise in watched:
            hit = (slot.low_t[j:end] <= fall) | (slot.high_t[j:end] >= rise)
            first = int(hit.argmax())
            if hit[first]:
                end = j + first  # the later slots need only be searched before it
                if end == j:
                    return j
        if end < limit:
            return end
        j = limit
        width = CHUNK * CHUNKS_AT_ONCE
    return cap
