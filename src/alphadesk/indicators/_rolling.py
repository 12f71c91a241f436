"""Fixed-window machinery shared by SMA, rolling std, Bollinger and relative volume.

Vectorised: numpy strided windows with a two-pass variance (mean first, then squared
deviations), never the one-pass ``E[x²] − E[x]²``, which cancels away 2·log10(mean/std)
digits: about 7 of the 16 for a calm 20-bar BTC window. Deviations are taken from the
window's first value before centring, so a flat window has exactly zero spread.

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


def row_chunks(rows: int, width: int) -> Iterator[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(1, width))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def sliding_mean(values: FloatArray, period: int) -> FloatArray:
    """Mean of each full window, aligned to the window's last bar, NaN before it."""
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        out[period - 1 :] = sliding_window_view(values, period).mean(axis=1)
    return out


def sliding_var(values: FloatArray, period: int, ddof: int) -> FloatArray:
    """Variance of each full window with ``period - ddof`` in the denominator."""
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    windows = sliding_window_view(values, period)
    body = out[period - 1 :]
    with np.errstate(invalid="ignore"):  # inf in a window: inf - inf is NaN, as wanted
        for rows in row_chunks(len(windows), period):
            deviations = windows[rows] - windows[rows, :1]
            deviations -= deviations.mean(axis=1, keepdims=True)
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
