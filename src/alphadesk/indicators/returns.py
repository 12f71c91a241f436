"""Changes over n bars, as fractions (pandas ``pct_change`` convention: 0.05 means +5 %).

The seed's LXAlgo wrote its thresholds in percent (``price_change > 5``, ``volume_change > 50``,
pump gate ``>= 8``); a strategy compares these fractions with 0.05, 0.50 and 0.08. A zero
denominator gives ``inf`` (or NaN for 0/0) as pandas did, never an exception: a thin symbol's
zero-volume bar is real data.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import as_series, as_series_group, check_period, finite
from alphadesk.indicators._arith import ieee_div
from alphadesk.indicators._types import FloatArray


def _ratio_change(numerator: FloatArray, denominator: FloatArray, lag: int) -> FloatArray:
    """``numerator[t] / denominator[t - lag] - 1``, NaN for the first ``lag`` bars."""
    out = np.full(len(numerator), np.nan)
    if len(numerator) > lag:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[lag:] = numerator[lag:] / denominator[: len(denominator) - lag] - 1.0
    return out


def pct_change(values: npt.ArrayLike, periods: int = 1) -> FloatArray:
    """``values[t] / values[t - periods] - 1``; LXAlgo's price and volume change use 144."""
    periods = check_period("periods", periods)
    series = as_series("values", values)
    return _ratio_change(series, series, periods)


def open_close_change(open_: npt.ArrayLike, close: npt.ArrayLike, lookback: int = 12) -> FloatArray:
    """``close[t] / open[t - lookback] - 1``: LXAlgo's pump gate.

    The seed reads ``open[-13]`` with ``PUMP_LOOKBACK = 12``, so the move spans 13 candles
    (65 minutes on 5-minute bars), not the "1 h" its config comment says; ``lookback=12``
    reproduces the seed.
    """
    lookback = check_period("lookback", lookback, minimum=0)
    opens, closes = as_series_group(open_=open_, close=close)
    return _ratio_change(closes, opens, lookback)


class PctChange:
    """Live change over ``periods`` bars; ``None`` for the first ``periods`` bars."""

    __slots__ = ("_history", "_periods", "_value")

    def __init__(self, periods: int = 1) -> None:
        self._periods = check_period("periods", periods)
        self._history: deque[float] = deque(maxlen=self._periods + 1)
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return self._periods

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, value: float) -> float | None:
        history = self._history
        history.append(finite("value", value))
        if len(history) > self._periods:
            self._value = ieee_div(history[-1], history[0]) - 1.0
        return self._value


class OpenCloseChange:
    """Live pump-gate change; ``None`` for the first ``lookback`` bars."""

    __slots__ = ("_lookback", "_opens", "_value")

    def __init__(self, lookback: int = 12) -> None:
        self._lookback = check_period("lookback", lookback, minimum=0)
        self._opens: deque[float] = deque(maxlen=self._lookback + 1)
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        return self._lookback

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, open_: float, close: float) -> float | None:
        opens = self._opens
        opens.append(finite("open_", open_))
        close = finite("close", close)
        if len(opens) > self._lookback:
            self._value = ieee_div(close, opens[0]) - 1.0
        return self._value
