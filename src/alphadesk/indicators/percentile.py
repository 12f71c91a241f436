"""Rolling percentile rank: where the newest value stands among the ones before it.

Momentum's squeeze filter (``bbwidth_percentile < 0.35``) is the fraction of the previous
``window - 1`` values strictly below the newest one, in a 90-bar window. The result is a
fraction in [0, 1]; ties count as not below, so a flat series ranks 0.

"Strictly below" is judged with a relative tie band of 1e-9 (``TIE_RTOL``), not bit for bit.
Whenever ``close[t] == close[t - 20]`` (common on tick-sized prices) the Bollinger window holds the
same prices as the bar before and its width is mathematically unchanged, but the computed widths
can differ in the last bit, and the backtest's and the live form's last bits differ. Without the
band, live and backtest ranks then disagree by 1/89 on such bars (seen on BTC 1-minute 2022
candles), which can flip the ``< 0.35`` entry filter.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from alphadesk.indicators._args import as_series, check_period, finite
from alphadesk.indicators._rolling import row_chunks
from alphadesk.indicators._types import FloatArray

TIE_RTOL = 1e-9


def rolling_percentile_rank(values: npt.ArrayLike, window: int = 90) -> FloatArray:
    """NaN until ``window`` numbers are in the window, as pandas ``rolling(window).apply``."""
    window = check_period("window", window, minimum=2)
    series = as_series("values", values)
    out = np.full(len(series), np.nan)
    if len(series) < window:
        return out
    windows = sliding_window_view(series, window)
    body = out[window - 1 :]
    # windows holding a NaN, from a running count of NaNs: the same mask as testing every value
    # of every window, without a (rows x window) pass of isnan
    nans = np.concatenate(([0], np.cumsum(np.isnan(series))))
    has_nan = nans[window:] > nans[: len(nans) - window]
    with np.errstate(invalid="ignore"):  # an infinite value's tie band is inf - inf
        for rows in row_chunks(len(windows), window):
            block = windows[rows]
            newest = block[:, -1:]
            below = np.count_nonzero(block[:, :-1] < newest - TIE_RTOL * np.abs(newest), axis=1)
            ranks = below / (window - 1)
            ranks[has_nan[rows]] = np.nan
            body[rows] = ranks
    return out


class RollingPercentileRank:
    """Live percentile rank.

    A sorted copy of the previous ``window - 1`` values makes each update a binary search plus
    one insertion and one deletion in a short list (memmove of at most ``window`` pointers).
    """

    __slots__ = ("_history", "_sorted", "_value", "_window")

    def __init__(self, window: int = 90) -> None:
        self._window = check_period("window", window, minimum=2)
        self._history: deque[float] = deque()
        self._sorted: list[float] = []
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return self._window - 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, value: float) -> float | None:
        value = finite("value", value)
        others = self._window - 1
        history, ordered = self._history, self._sorted
        if len(history) == others:
            self._value = bisect_left(ordered, value - TIE_RTOL * abs(value)) / others
            oldest = history.popleft()
            del ordered[bisect_left(ordered, oldest)]
        history.append(value)
        insort(ordered, value)
        return self._value
