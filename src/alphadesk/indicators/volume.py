"""Relative volume (RVR): the bar's volume over the SMA of volume, current bar included.

That is the seed's Momentum definition (``volume / volume.rolling(20).mean()``; its README calls
it a "reward/risk ratio", it is not one). Momentum's entry wants ``RVR > 2``. LXAlgo's
``volume_change`` is :func:`~alphadesk.indicators.returns.pct_change` of volume over 144 bars.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import as_series, check_period, finite
from alphadesk.indicators._arith import ieee_div
from alphadesk.indicators._rolling import RollingMoments, sliding_mean
from alphadesk.indicators._types import FloatArray


def relative_volume(volume: npt.ArrayLike, period: int = 20) -> FloatArray:
    """First value at index ``period - 1``; twenty zero-volume bars give NaN (0/0)."""
    period = check_period("period", period)
    series = as_series("volume", volume)
    with np.errstate(divide="ignore", invalid="ignore"):
        return series / sliding_mean(series, period)


class RelativeVolume:
    """Live RVR; ``None`` until ``period`` bars have been seen."""

    __slots__ = ("_moments", "_value")

    def __init__(self, period: int = 20) -> None:
        self._moments = RollingMoments(check_period("period", period), track_variance=False)
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return self._moments.period - 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, volume: float) -> float | None:
        volume = finite("volume", volume)
        self._moments.push(volume)
        if self._moments.full:
            self._value = ieee_div(volume, self._moments.mean)
        return self._value
