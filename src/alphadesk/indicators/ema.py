"""Exponential moving average, TA-Lib ``EMA`` convention.

Seeded with the SMA of the first ``period`` values (first value at index ``period - 1``), then
``ema += (x - ema) * k`` with ``k = 2 / (period + 1)``. That is also the seed's ShortSeller EMA;
pandas ``ewm(span=period, adjust=False)`` instead seeds with the first value and differs for
several times ``period`` bars. The arithmetic is TA-Lib's, in its order, so values match it to the
last bits, and both forms below run the same step, so they agree exactly.
"""

from __future__ import annotations

import numpy.typing as npt

from alphadesk.indicators._args import as_series, check_period, finite
from alphadesk.indicators._replay import replay
from alphadesk.indicators._types import FloatArray


def ema(values: npt.ArrayLike, period: int) -> FloatArray:
    """EMA over ``values``; leading NaNs are skipped (the EMA starts at the first number)."""
    return replay(EMA(period)._step, as_series("values", values))


class EMA:
    """Live EMA, one closed bar at a time; ``None`` until ``period`` values have been seen."""

    __slots__ = ("_count", "_k", "_period", "_seed_sum", "_value")

    def __init__(self, period: int) -> None:
        self._period = check_period("period", period)
        self._k = 2.0 / (self._period + 1)
        self._count = 0
        self._seed_sum = 0.0
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        """Bars consumed before the first value, as TA-Lib's ``TA_EMA_Lookback``."""
        return self._period - 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, value: float) -> float | None:
        return self._step(finite("value", value))

    def _step(self, x: float) -> float | None:
        previous = self._value
        if previous is not None:
            self._value = (x - previous) * self._k + previous
        else:
            self._count += 1
            self._seed_sum += x
            if self._count == self._period:
                self._value = self._seed_sum / self._period
        return self._value
