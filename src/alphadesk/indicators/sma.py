"""Simple moving average, TA-Lib ``SMA`` convention: first value at index ``period - 1``."""

from __future__ import annotations

import numpy.typing as npt

from alphadesk.indicators._args import as_series, check_period, finite
from alphadesk.indicators._rolling import RollingMoments, sliding_mean
from alphadesk.indicators._types import FloatArray


def sma(values: npt.ArrayLike, period: int) -> FloatArray:
    """Mean of the last ``period`` values; a window holding a NaN gives NaN (pandas, TA-Lib)."""
    period = check_period("period", period)
    return sliding_mean(as_series("values", values), period)


class SMA:
    """Live SMA; its window sum is exact, so it agrees with :func:`sma` to the last few bits."""

    __slots__ = ("_moments", "_value")

    def __init__(self, period: int) -> None:
        self._moments = RollingMoments(check_period("period", period), track_variance=False)
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        """Bars consumed before the first value, as TA-Lib's ``TA_SMA_Lookback``."""
        return self._moments.period - 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, value: float) -> float | None:
        self._moments.push(finite("value", value))
        if self._moments.full:
            self._value = self._moments.mean
        return self._value
