"""Relative strength index, TA-Lib ``RSI`` convention (Wilder smoothing).

The first value is at index ``period``: the plain means of the first ``period`` gains and losses,
then Wilder's ``avg = (avg * (period - 1) + today) / period``, and ``RSI = 100 * gain / (gain +
loss)``. Where gain + loss is zero (a flat market) TA-Lib answers 0, and so do we. The test is
for exact zero: TA-Lib C releases up to 0.4 used ``|x| < 1e-8`` in price units, which read 0 for
a coin whose moves are that small; the build in the 0.8 wheel is scale-free, like this one.

The seed's LXAlgo used the ``ta`` package instead (pandas ``ewm(alpha=1/period)`` seeded at the
first bar, 100 for a flat market) on a 200-bar window recomputed each bar: with RSI(84) the
seed's values differ from these by 0.5 points typically and up to about 3 (BTC 5-minute
candles, Sep-Nov 2025): that is the seed's truncated window, not a different RSI.
"""

from __future__ import annotations

import numpy.typing as npt

from alphadesk.indicators._args import as_series, check_period, finite
from alphadesk.indicators._replay import replay
from alphadesk.indicators._types import FloatArray


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    return replay(RSI(period)._step, as_series("close", close))


class RSI:
    """Live RSI; ``None`` until ``period + 1`` closes (``period`` changes) have been seen."""

    __slots__ = ("_count", "_gain", "_loss", "_period", "_previous", "_value")

    def __init__(self, period: int = 14) -> None:
        self._period = check_period("period", period)
        self._previous: float | None = None
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self._value: float | None = None

    @property
    def lookback(self) -> int:
        """Bars consumed before the first value, as TA-Lib's ``TA_RSI_Lookback``."""
        return self._period

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, close: float) -> float | None:
        return self._step(finite("close", close))

    def _step(self, close: float) -> float | None:
        previous = self._previous
        self._previous = close
        if previous is None:
            return None
        change = close - previous
        period = self._period
        if self._count < period:
            self._count += 1
            if change < 0:
                self._loss -= change
            else:
                self._gain += change
            if self._count < period:
                return None
            self._loss /= period
            self._gain /= period
        else:
            self._loss *= period - 1
            self._gain *= period - 1
            if change < 0:
                self._loss -= change
            else:
                self._gain += change
            self._loss /= period
            self._gain /= period
        total = self._gain + self._loss
        self._value = 100.0 * (self._gain / total) if total != 0.0 else 0.0
        return self._value
