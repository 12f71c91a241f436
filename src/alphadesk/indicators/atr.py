"""True range and average true range, TA-Lib ``TRANGE`` / ``ATR`` conventions.

True range needs the previous close, so it starts at index 1. ATR's first value (index
``period``) is the plain mean of the first ``period`` true ranges, then Wilder's
``atr = (atr * (period - 1) + tr) / period``, in TA-Lib's order of operations.
"""

from __future__ import annotations

import numpy.typing as npt

from alphadesk.indicators._args import as_series_group, check_period, finite
from alphadesk.indicators._replay import replay
from alphadesk.indicators._types import FloatArray


def bar_true_range(high: float, low: float, previous_close: float) -> float:
    """The bar's range stretched to cover a gap from the previous close."""
    return max(high - low, abs(high - previous_close), abs(low - previous_close))


def true_range(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    return replay(TrueRange()._step, *as_series_group(high=high, low=low, close=close))


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    return replay(ATR(period)._step, *as_series_group(high=high, low=low, close=close))


class TrueRange:
    """Live true range; ``None`` on the first bar, which has no previous close."""

    __slots__ = ("_previous_close", "_value")

    def __init__(self) -> None:
        self._previous_close: float | None = None
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, high: float, low: float, close: float) -> float | None:
        return self._step(finite("high", high), finite("low", low), finite("close", close))

    def _step(self, high: float, low: float, close: float) -> float | None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close is not None:
            self._value = bar_true_range(high, low, previous_close)
        return self._value


class ATR:
    """Live ATR; ``None`` until ``period + 1`` bars have been seen."""

    __slots__ = ("_count", "_period", "_seed_sum", "_true_range", "_value")

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._true_range = TrueRange()
        self._count = 0
        self._seed_sum = 0.0
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        """Bars consumed before the first value, as TA-Lib's ``TA_ATR_Lookback``."""
        return self._period

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, high: float, low: float, close: float) -> float | None:
        return self._step(finite("high", high), finite("low", low), finite("close", close))

    def _step(self, high: float, low: float, close: float) -> float | None:
        tr = self._true_range._step(high, low, close)
        if tr is None:
            return None
        period = self._period
        previous = self._value
        if previous is not None:
            self._value = (previous * (period - 1) + tr) / period
        else:
            self._count += 1
            self._seed_sum += tr
            if self._count == period:
                self._value = self._seed_sum / period
        return self._value
