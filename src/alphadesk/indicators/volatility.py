"""Dispersion measures: rolling std (TA-Lib ``STDDEV``, or pandas' sample std), LXAlgo's
return volatility, and the one-bar spread.

``ddof`` defaults to 0, TA-Lib's population std; pandas ``rolling().std()`` (what the seed's
LXAlgo and Momentum called) uses ``ddof=1``. Values are computed two-pass (see ``_rolling``):
on our candles they agree with TA-Lib's ``STDDEV`` to ~1e-11 relative, while pandas' online
rolling std is off from both by up to ~5e-8 at BTC prices.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import as_series, as_series_group, check_ddof, check_period, finite
from alphadesk.indicators._arith import ieee_div
from alphadesk.indicators._rolling import RollingMoments, sliding_var
from alphadesk.indicators._types import FloatArray
from alphadesk.indicators.returns import PctChange, pct_change


def rolling_std(values: npt.ArrayLike, period: int, ddof: int = 0) -> FloatArray:
    period = check_period("period", period)
    ddof = check_ddof(ddof, period)
    return np.sqrt(sliding_var(as_series("values", values), period, ddof))


def return_volatility(close: npt.ArrayLike, period: int = 144, ddof: int = 1) -> FloatArray:
    """Std of one-bar returns over ``period`` bars: LXAlgo's ``volatility`` (threshold 0.005).

    Defaults are the seed's ``close.pct_change().rolling(144).std()``: sample std, first value at
    index ``period`` because the first return needs a previous close.
    """
    return rolling_std(pct_change(close, 1), period, ddof)


def bar_spread(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    """(high − low) / close of each bar, as a fraction: LXAlgo's ``spread`` (seed: % < 3)."""
    highs, lows, closes = as_series_group(high=high, low=low, close=close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (highs - lows) / closes


class RollingStd:
    """Live rolling std; ``None`` until ``period`` values have been seen."""

    __slots__ = ("_ddof", "_moments", "_value")

    def __init__(self, period: int, ddof: int = 0) -> None:
        period = check_period("period", period)
        self._ddof = check_ddof(ddof, period)
        self._moments = RollingMoments(period, track_variance=True)
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return self._moments.period - 1

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, value: float) -> float | None:
        moments = self._moments
        moments.push(finite("value", value))
        if moments.full:
            self._value = math.sqrt(moments.variance(self._ddof))
        return self._value


class ReturnVolatility:
    """Live LXAlgo volatility; ``None`` for the first ``period`` closes."""

    __slots__ = ("_returns", "_std")

    def __init__(self, period: int = 144, ddof: int = 1) -> None:
        self._returns = PctChange(1)
        self._std = RollingStd(period, ddof)

    @property
    def lookback(self) -> int:
        return self._std.lookback + 1

    @property
    def value(self) -> float | None:
        return self._std.value

    def update(self, close: float) -> float | None:
        change = self._returns.update(close)
        return None if change is None else self._std.update(change)


class BarSpread:
    """Live one-bar spread; kept as a class so a strategy's live code has one shape throughout."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return 0

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, high: float, low: float, close: float) -> float | None:
        high, low, close = finite("high", high), finite("low", low), finite("close", close)
        self._value = ieee_div(high - low, close)
        return self._value
