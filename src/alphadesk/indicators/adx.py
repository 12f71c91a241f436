"""Directional movement (+DI, -DI) and ADX, TA-Lib ``PLUS_DI`` / ``MINUS_DI`` / ``ADX`` conventions.

TA-Lib's seed is not the textbook one, and we follow it so values and first indices match:
the first ``period - 1`` directional moves and true ranges are summed, then every later bar
applies Wilder's running sum ``s = s - s / period + today`` (so the first DI, at index ``period``,
already went through one smoothing step). DX is averaged over its first ``period`` values for the
first ADX at index ``2 * period - 1``, then ``adx = (adx * (period - 1) + dx) / period``.

Degenerate bars follow TA-Lib too: a zero true range gives DI = 0 and leaves the ADX unchanged,
and so does +DI + -DI = 0; "zero" is exact zero, so values do not depend on the price's scale
(see ``rsi``). One TA-Lib quirk we do not copy: with ``period=1`` its ``PLUS_DI``/``MINUS_DI``
return fractions instead of percentages.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import as_series_group, check_period, finite
from alphadesk.indicators._replay import first_valid
from alphadesk.indicators._types import FloatArray
from alphadesk.indicators.atr import bar_true_range


class DMI(NamedTuple):
    plus_di: FloatArray
    minus_di: FloatArray
    adx: FloatArray


def dmi(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14) -> DMI:
    """+DI, -DI and ADX in one pass (they share all their state)."""
    state = ADX(period)
    series = as_series_group(high=high, low=low, close=close)
    n = len(series[0])
    start = first_valid(*series)
    plus = [np.nan] * n
    minus = [np.nan] * n
    average = [np.nan] * n
    step = state._step
    columns = [array[start:].tolist() for array in series]
    for i, bar in enumerate(zip(*columns, strict=True), start):
        value = step(*bar)
        plus_value, minus_value = state.plus_di, state.minus_di
        if plus_value is not None and minus_value is not None:
            plus[i] = plus_value
            minus[i] = minus_value
        if value is not None:
            average[i] = value
    return DMI(np.array(plus), np.array(minus), np.array(average))


def adx(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    return dmi(high, low, close, period).adx


def plus_di(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    return dmi(high, low, close, period).plus_di


def minus_di(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    return dmi(high, low, close, period).minus_di


class ADX:
    """Live ADX with its +DI and -DI.

    ``update`` returns the ADX, ``None`` for the first ``2 * period - 1`` bars; ``plus_di`` and
    ``minus_di`` are available from bar ``period`` on.
    """

    __slots__ = (
        "_adx",
        "_bars",
        "_dx_sum",
        "_minus_di",
        "_minus_dm",
        "_period",
        "_plus_di",
        "_plus_dm",
        "_previous",
        "_tr",
    )

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._previous: tuple[float, float, float] | None = None
        self._bars = 0
        self._plus_dm = 0.0
        self._minus_dm = 0.0
        self._tr = 0.0
        self._dx_sum = 0.0
        self._plus_di: float | None = None
        self._minus_di: float | None = None
        self._adx: float | None = None

    @property
    def lookback(self) -> int:
        """Bars consumed before the first ADX, as TA-Lib's ``TA_ADX_Lookback``."""
        return 2 * self._period - 1

    @property
    def value(self) -> float | None:
        return self._adx

    @property
    def plus_di(self) -> float | None:
        return self._plus_di

    @property
    def minus_di(self) -> float | None:
        return self._minus_di

    def update(self, high: float, low: float, close: float) -> float | None:
        return self._step(finite("high", high), finite("low", low), finite("close", close))

    def _step(self, high: float, low: float, close: float) -> float | None:
        previous = self._previous
        self._previous = (high, low, close)
        if previous is None:
            return None
        previous_high, previous_low, previous_close = previous
        up = high - previous_high
        down = previous_low - low
        tr = bar_true_range(high, low, previous_close)
        period = self._period
        self._bars += 1
        if self._bars >= period:
            self._plus_dm -= self._plus_dm / period
            self._minus_dm -= self._minus_dm / period
            self._tr = self._tr - self._tr / period + tr
        else:
            self._tr += tr
        if down > 0 and up < down:
            self._minus_dm += down
        elif up > 0 and up > down:
            self._plus_dm += up
        if self._bars < period:
            return None
        dx: float | None = None
        if self._tr != 0.0:
            self._minus_di = 100.0 * (self._minus_dm / self._tr)
            self._plus_di = 100.0 * (self._plus_dm / self._tr)
            di_sum = self._minus_di + self._plus_di
            if di_sum != 0.0:
                dx = 100.0 * (abs(self._minus_di - self._plus_di) / di_sum)
        else:
            self._minus_di = self._plus_di = 0.0
        if self._adx is not None:
            if dx is not None:
                self._adx = (self._adx * (period - 1) + dx) / period
            return self._adx
        if dx is not None:
            self._dx_sum += dx
        if self._bars == 2 * period - 1:
            self._adx = self._dx_sum / period
        return self._adx
