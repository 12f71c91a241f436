"""Bollinger bands and their width, TA-Lib ``BBANDS`` convention by default.

Middle = SMA(period), bands = middle ± nbdev · std. TA-Lib uses the population std
(``ddof=0``, the default here); the seed's Momentum used pandas' default sample std
(``ddof=1``), which makes 20-bar bands about 2.6 % wider (√(20/19)), enough to move its
``close > upper`` entries, so ``ddof`` is a parameter the strategy sets.

Width = (upper − lower) / middle, Momentum's squeeze measure; feed it to
:func:`~alphadesk.indicators.percentile.rolling_percentile_rank` for the 90-bar percentile.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import (
    as_series,
    check_ddof,
    check_multiplier,
    check_period,
    finite,
)
from alphadesk.indicators._arith import ieee_div
from alphadesk.indicators._rolling import RollingMoments, sliding_mean, sliding_var
from alphadesk.indicators._types import FloatArray


class BollingerBands(NamedTuple):
    upper: FloatArray
    middle: FloatArray
    lower: FloatArray
    width: FloatArray


class BollingerValue(NamedTuple):
    upper: float
    middle: float
    lower: float
    width: float


def bollinger(
    close: npt.ArrayLike, period: int = 20, nbdev: float = 2.0, ddof: int = 0
) -> BollingerBands:
    period = check_period("period", period)
    nbdev = check_multiplier("nbdev", nbdev)
    ddof = check_ddof(ddof, period)
    series = as_series("close", close)
    middle = sliding_mean(series, period)
    offset = nbdev * np.sqrt(sliding_var(series, period, ddof))
    upper = middle + offset
    lower = middle - offset
    with np.errstate(divide="ignore", invalid="ignore"):
        width = (upper - lower) / middle
    return BollingerBands(upper, middle, lower, width)


class Bollinger:
    """Live Bollinger bands; ``None`` until ``period`` closes have been seen."""

    __slots__ = ("_ddof", "_moments", "_nbdev", "_value")

    def __init__(self, period: int = 20, nbdev: float = 2.0, ddof: int = 0) -> None:
        period = check_period("period", period)
        self._nbdev = check_multiplier("nbdev", nbdev)
        self._ddof = check_ddof(ddof, period)
        self._moments = RollingMoments(period, track_variance=True)
        self._value: BollingerValue | None = None

    @property
    def lookback(self) -> int:
        return self._moments.period - 1

    @property
    def value(self) -> BollingerValue | None:
        return self._value

    def update(self, close: float) -> BollingerValue | None:
        moments = self._moments
        moments.push(finite("close", close))
        if moments.full:
            middle = moments.mean
            offset = self._nbdev * math.sqrt(moments.variance(self._ddof))
            upper = middle + offset
            lower = middle - offset
            self._value = BollingerValue(upper, middle, lower, ieee_div(upper - lower, middle))
        return self._value
