"""TA-Lib-backed vectorised EMA and RSI: the backtest's fast path for the recursive indicators.

The numpy forms in ``ema``/``rsi`` replay the live step in Python (about a microsecond per bar,
a quarter of a second per EMA over a million bars); TA-Lib runs the same recurrence in C in a
few milliseconds. Its arithmetic is the same sequence of operations, but the compiled code may
fuse a multiply and an add, so values can differ from the replay in the last bits: on our candles
by < 1e-12 absolute (EMA at BTC prices) and < 2e-13 RSI points, far inside the 1e-9 the
backtest and live paths promise each other. The replayed forms stay the reference (live, tests)
and the fallback: when TA-Lib is missing, or the input has a gap (a NaN after the first number),
where the replay's NaN propagation is what the contract specifies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._args import as_series, check_period
from alphadesk.indicators._types import FloatArray
from alphadesk.indicators.ema import ema as _ema_replay
from alphadesk.indicators.rsi import rsi as _rsi_replay

_talib: Any
try:
    import talib as _talib
except ImportError:  # pragma: no cover - ta-lib is a runtime dependency; kept for odd installs
    _talib = None


def _gap_free(values: FloatArray) -> bool:
    """Numbers from the first number to the end (leading NaNs are fine: both forms skip them)."""
    missing = np.isnan(values)
    if not missing.any():
        return True
    start = int(np.argmin(missing)) if not missing.all() else len(values)
    return not missing[start:].any()


def ema(values: npt.ArrayLike, period: int) -> FloatArray:
    """:func:`alphadesk.indicators.ema`, computed by TA-Lib when it can be."""
    series = as_series("values", values)
    period = check_period("period", period)
    if _talib is None or not _gap_free(series):
        return _ema_replay(series, period)
    if period == 1:  # TA-Lib refuses period 1; the EMA of one value is the value
        return _ema_replay(series, period)
    out: FloatArray = _talib.EMA(series, timeperiod=period)
    return out


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """:func:`alphadesk.indicators.rsi`, computed by TA-Lib when it can be."""
    series = as_series("close", close)
    period = check_period("period", period)
    if _talib is None or not _gap_free(series) or period == 1:
        return _rsi_replay(series, period)
    out: FloatArray = _talib.RSI(series, timeperiod=period)
    return out
