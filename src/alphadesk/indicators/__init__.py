"""Technical indicators in two forms that agree: vectorised for backtests, incremental for live.

Vectorised functions take 1-D float arrays and return float64 arrays of the same length, NaN
during warm-up. Incremental classes take one closed bar per ``update`` and return the current
value, ``None`` during warm-up; ``lookback`` is the number of bars they consume before the first
value, which equals TA-Lib's ``*_Lookback`` and the vectorised form's first valid index.

Conventions are TA-Lib's (SMA-seeded EMA, Wilder RSI/ATR/ADX, population std), with the seed
strategies' deviations available as parameters (``ddof=1``); each module says where and why.
Ratios are fractions, not percent; RSI, DI and ADX are 0–100 as everywhere else.
"""

from alphadesk.indicators.adx import ADX, DMI, adx, dmi, minus_di, plus_di
from alphadesk.indicators.atr import ATR, TrueRange, atr, true_range
from alphadesk.indicators.bollinger import Bollinger, BollingerBands, BollingerValue, bollinger
from alphadesk.indicators.ema import EMA, ema
from alphadesk.indicators.percentile import RollingPercentileRank, rolling_percentile_rank
from alphadesk.indicators.returns import OpenCloseChange, PctChange, open_close_change, pct_change
from alphadesk.indicators.rsi import RSI, rsi
from alphadesk.indicators.sma import SMA, sma
from alphadesk.indicators.volatility import (
    BarSpread,
    ReturnVolatility,
    RollingStd,
    bar_spread,
    return_volatility,
    rolling_std,
)
from alphadesk.indicators.volume import RelativeVolume, relative_volume

__all__ = [
    "ADX",
    "ATR",
    "DMI",
    "EMA",
    "RSI",
    "SMA",
    "BarSpread",
    "Bollinger",
    "BollingerBands",
    "BollingerValue",
    "OpenCloseChange",
    "PctChange",
    "RelativeVolume",
    "ReturnVolatility",
    "RollingPercentileRank",
    "RollingStd",
    "TrueRange",
    "adx",
    "atr",
    "bar_spread",
    "bollinger",
    "dmi",
    "ema",
    "minus_di",
    "open_close_change",
    "pct_change",
    "plus_di",
    "relative_volume",
    "return_volatility",
    "rolling_percentile_rank",
    "rolling_std",
    "rsi",
    "sma",
    "true_range",
]
