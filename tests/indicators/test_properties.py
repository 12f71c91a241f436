"""Property tests on random positive OHLCV series.

Prices move in whole ticks (1e-3 relative steps) from a start between 10 and 100,000, as real
prices do, with runs of unchanged prices and zero-volume bars, which is where windowed sums
and divisions go wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphadesk.indicators import (
    ADX,
    ATR,
    EMA,
    RSI,
    SMA,
    Bollinger,
    PctChange,
    RelativeVolume,
    ReturnVolatility,
    RollingPercentileRank,
    atr,
    bollinger,
    dmi,
    ema,
    pct_change,
    relative_volume,
    return_volatility,
    rolling_percentile_rank,
    rsi,
    sma,
)

from .support import Candles, assert_agree, run_live

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,  # leave no .hypothesis folder in the shared tree
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def ohlcv(draw: st.DrawFn) -> Candles:
    n = draw(st.integers(min_value=0, max_value=260))
    start = draw(st.floats(min_value=10.0, max_value=100_000.0))
    ticks = st.lists(st.integers(-20, 20), min_size=n, max_size=n)
    wicks = st.lists(st.integers(0, 10), min_size=n, max_size=n)
    close = start * np.exp(np.cumsum(np.array(draw(ticks), dtype=np.float64) * 1e-3))
    open_ = np.concatenate(([start], close[:-1]))[:n]
    high = np.maximum(open_, close) * (1 + np.array(draw(wicks), dtype=np.float64) * 1e-3)
    low = np.minimum(open_, close) * (1 - np.array(draw(wicks), dtype=np.float64) * 1e-3)
    volumes = st.lists(st.one_of(st.just(0.0), st.floats(0.001, 1e6)), min_size=n, max_size=n)
    volume = np.array(draw(volumes), dtype=np.float64)
    return Candles("random", open_, high, low, close, volume)


periods = st.integers(min_value=1, max_value=40)


@PROPERTY_SETTINGS
@given(k=ohlcv(), period=periods)
def test_live_equals_vectorised_on_random_series(k: Candles, period: int) -> None:
    window = max(period, 2)
    cases: list[tuple[Any, tuple[np.ndarray, ...], np.ndarray, float]] = [
        (EMA(period), (k.close,), ema(k.close, period), 0.0),
        (SMA(period), (k.close,), sma(k.close, period), 1e-9),
        (RSI(period), (k.close,), rsi(k.close, period), 0.0),
        (ATR(period), (k.high, k.low, k.close), atr(k.high, k.low, k.close, period), 0.0),
        (ADX(period), (k.high, k.low, k.close), dmi(k.high, k.low, k.close, period).adx, 0.0),
        (PctChange(period), (k.volume,), pct_change(k.volume, period), 0.0),
        (RelativeVolume(period), (k.volume,), relative_volume(k.volume, period), 1e-9),
        (ReturnVolatility(window), (k.close,), return_volatility(k.close, window), 1e-9),
        (RollingPercentileRank(window), (k.close,), rolling_percentile_rank(k.close, window), 0.0),
    ]
    for live, columns, expected, tol in cases:
        assert_agree(run_live(live, *columns), expected, tol, type(live).__name__)

    bands = bollinger(k.close, window, 2.0, ddof=1)
    live_bands = Bollinger(window, 2.0, ddof=1)
    uppers = [b.upper if (b := live_bands.update(c)) else np.nan for c in k.close.tolist()]
    assert_agree(np.array(uppers, dtype=np.float64), bands.upper, 1e-9, "bollinger")


@PROPERTY_SETTINGS
@given(k=ohlcv(), period=st.integers(min_value=2, max_value=40))
def test_vectorised_equals_talib_on_random_series(k: Candles, period: int) -> None:
    h, lo, c = k.high, k.low, k.close
    directional = dmi(h, lo, c, period)
    pairs = [
        (ema(c, period), talib.EMA(c, period)),
        (sma(c, period), talib.SMA(c, period)),
        (rsi(c, period), talib.RSI(c, period)),
        (atr(h, lo, c, period), talib.ATR(h, lo, c, period)),
        (directional.adx, talib.ADX(h, lo, c, period)),
        (directional.plus_di, talib.PLUS_DI(h, lo, c, period)),
        (directional.minus_di, talib.MINUS_DI(h, lo, c, period)),
        (bollinger(c, period).upper, talib.BBANDS(c, period, 2.0, 2.0)[0]),
    ]
    for ours, reference in pairs:
        assert_agree(ours, reference, 1e-6)
