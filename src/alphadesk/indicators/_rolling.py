"""Fixed-window machinery shared by SMA, rolling std, Bollinger and relative volume.

Vectorised: numpy strided windows with a two-pass variance (mean first, then squared
deviations), never the one-pass ``E[x²] − E[x]²``, which cancels away 2·log10(mean/std)
digits: about 7 of the 16 for a calm 20-bar BTC window. Deviations are taken from the
window's first value before centring, so a flat window has exactly zero spread.

Windows of up to ``PAIRWISE_BLOCKSIZE`` values are summed column-wise over a block of windows
(:func:`window_sums`): the same additions in the same order as numpy's ``mean(axis=1)`` over
the strided windows, so the same floats, without numpy's per-window inner-loop call (a 20-value
window is mostly call overhead: 3-4 times slower). The squares of the variance still go through
``einsum`` on row-major windows as before: its summation is the SIMD of numpy's build, not
something to copy. Longer windows keep the strided forms.

Incremental, O(1) or bounded per bar:
- the window sum is kept exactly (Shewchuk's partials, as ``math.fsum``), so removing a value
  leaves no residue: a plain running sum that saw a 1e6 volume spike would keep ~1e-10 of it,
  and a later window of zero volumes would read a mean of 1e-10 (RVR 0) instead of 0 (RVR NaN);
- the variance is recomputed two-pass from the ring buffer on every bar when the window has at
  most ``EXACT_VARIANCE_MAX_PERIOD`` values. A sliding (Welford) update is O(1) but leaves
  rounding residue of order eps·|mean|·|move| in the sum of squares, and the square root turns
  that into a std of ~1e-8 at a flat window whose std is 0;
- longer windows use the sliding Welford update, re-summed exactly every ``period`` bars and
  set to zero when the whole window is one repeated value; there a nearly flat window's std is
  only as good as the residue allows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from alphadesk.indicators._types import FloatArray

# Rows of a (rows, window) temporary processed at once: bounds memory on long backtests.
_CHUNK_ELEMENTS = 1 << 20
EXACT_VARIANCE_MAX_PERIOD = 200
# numpy's pairwise summation adds up to this many values with eight running sums (its
# PW_BLOCKSIZE) and splits longer runs in halves, which window_sums does not repeat.
PAIRWISE_BLOCKSIZE = 128
# Windows per block of the column-wise forms: a 20-bar block's temporaries (about 1.3 MB) stay
# in the L2 cache. On the Momentum benchmark 2k-4k were slower (numpy calls), 16k-32k no faster.
BLOCK_WINDOWS = 8192


def row_chunks(rows: int, width: int) -> Iterator[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(1, width))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def window_blocks(values: FloatArray, period: int) -> Iterator[tuple[slice, FloatArray]]:
    """The full windows of ``values`` in blocks, each a read-only (period, windows) view whose
    row j is the j-th value of every window of the block: work down a window becomes a few long
    element-wise operations. The slice gives the block's windows by their first bar."""
    windows = len(values) - period + 1
    for start in range(0, windows, BLOCK_WINDOWS):
        stop = min(windows, start + BLOCK_WINDOWS)
        block = sliding_window_view(values[start : stop + period - 1], stop - start)
        yield slice(start, stop), block


def window_sums(block: FloatArray) -> FloatArray:
    """Each column's sum, bit for bit numpy's ``add.reduce`` of that window (``len(block)`` at most
    ``PAIRWISE_BLOCKSIZE``): the reduce adds to its identity 0.0 the window's pairwise sum, which
    is, below 8 values, one running sum from 0.0; otherwise eight running sums over strides of
    eight, combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the rest one by
    one. tests/indicators/test_window_blocks.py holds the strided form as the reference."""
    count = len(block)
    if count > PAIRWISE_BLOCKSIZE:
        raise ValueError(f"window_sums takes at most {PAIRWISE_BLOCKSIZE} rows, got {count}")
    total: FloatArray
    if count < 8:
        total = 0.0 + block[0]
        for i in range(1, count):
            total += block[i]
    else:
        full = count - count % 8
        if full >= 16:  # the first step of the running sums, without copying the first eight
            sums = block[:8] + block[8:16]
            i = 16
        else:
            sums = block[:8].copy()
            i = 8
        while i < full:
            sums += block[i : i + 8]
            i += 8
        pairs = sums[0::2] + sums[1::2]
        halves = pairs[0::2] + pairs[1::2]
        total = halves[0] + halves[1]
        for j in range(i, count):
            total += block[j]
    total += 0.0  # the reduce's identity, 0.0 + sum: a sum of -0.0 comes out as 0.0
    return total


def sliding_mean(values: FloatArray, period: int) -> FloatArray:
    """Mean of each full window, aligned to the window's last bar, NaN before it."""
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    if period > PAIRWISE_BLOCKSIZE:
        out[period - 1 :] = sliding_window_view(values, period).mean(axis=1)
        return out
    body = out[period - 1 :]
    for windows, block in window_blocks(values, period):
        np.divide(window_sums(block), period, out=body[windows])  # as mean(): sum / count
    return out


def sliding_var(values: FloatArray, period: int, ddof: int) -> FloatArray:
    """Variance of each full window with ``period - ddof`` in the denominator."""
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    body = out[period - 1 :]
    with np.errstate(invalid="ignore"):  # inf in a window: inf - inf is NaN, as wanted
        if period > PAIRWISE_BLOCKSIZE:
            windows = sliding_window_view(values, period)
            for rows in row_chunks(len(windows), period):
                deviations = windows[rows] - windows[rows, :1]
                deviations -= deviations.mean(axis=1, keepdims=True)
                body[rows] = np.einsum("ij,ij->i", deviations, deviations) / (period - ddof)
            return out
        size = min(len(body), BLOCK_WINDOWS)
        shifted = np.empty((period, size))
        centred = np.empty((size, period))  # row-major, as einsum summed it before
        for rows, block in window_blocks(values, period):
            count = rows.stop - rows.start
            spread = shifted[:, :count]
            np.subtract(block, block[0], out=spread)
            mean = window_sums(spread)
            mean /= period
            deviations = centred[:count]
            np.subtract(spread, mean, out=deviations.T)
            body[rows] = np.einsum("ij,ij->i", deviations, deviations) / (period - ddof)
    return out


class ExactSum:
    """A sum of floats held without rounding (a list of non-overlapping partials)."""

    __slots__ = ("_partials",)

    def __init__(self) -> None:
        self._partials: list[float] = []

    def add(self, value: float) -> None:
        partials = self._partials
        kept = 0
        for partial in partials:
            if abs(value) < abs(partial):
                value, partial = partial, value
            high = value + partial
            low = partial - (high - value)
            if low:
                partials[kept] = low
                kept += 1
            value = high
        partials[kept:] = [value]

    def rounded(self) -> float:
        return math.fsum(self._partials)


def exact_m2(values: deque[float]) -> float:
    """Sum of squared deviations, two-pass, from the first value so a flat window gives 0."""
    first = values[0]
    shifted = [value - first for value in values]
    mean = math.fsum(shifted) / len(shifted)
    return math.fsum((value - mean) * (value - mean) for value in shifted)


class RollingMoments:
    """Mean and (optionally) sum of squared deviations of the last ``period`` values."""

    __slots__ = (
        "_buffer",
        "_m2",
        "_mean",
        "_period",
        "_repeats",
        "_since_exact",
        "_sum",
        "_track_variance",
    )

    def __init__(self, period: int, *, track_variance: bool) -> None:
        self._period = period
        self._track_variance = track_variance
        self._buffer: deque[float] = deque(maxlen=period)
        self._sum = ExactSum()
        self._mean = 0.0
        self._m2 = 0.0
        self._since_exact = 0
        self._repeats = 0  # how many of the latest values equal the latest one

    @property
    def period(self) -> int:
        return self._period

    @property
    def full(self) -> bool:
        return len(self._buffer) == self._period

    @property
    def mean(self) -> float:
        return self._mean

    def variance(self, ddof: int) -> float:
        # The sliding update can leave -1e-18 where the exact answer is 0.
        return max(self._m2, 0.0) / (self._period - ddof)

    def push(self, value: float) -> None:
        buffer, period = self._buffer, self._period
        was_full = len(buffer) == period
        oldest = buffer[0] if was_full else value
        self._repeats = self._repeats + 1 if buffer and buffer[-1] == value else 1
        if was_full:
            self._sum.add(-oldest)
        self._sum.add(value)
        buffer.append(value)
        if len(buffer) < period:
            return
        previous_mean = self._mean
        self._mean = self._sum.rounded() / period
        if not self._track_variance:
            return
        self._since_exact += 1
        if not was_full or period <= EXACT_VARIANCE_MAX_PERIOD or self._since_exact >= period:
            self._m2 = exact_m2(buffer)
            self._since_exact = 0
        elif self._repeats >= period:
            self._m2 = 0.0
        else:
            self._m2 += (value - oldest) * (value - self._mean + oldest - previous_mean)
