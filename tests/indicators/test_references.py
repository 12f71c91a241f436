"""Both forms against the references: TA-Lib for the classic indicators, pandas for the seed's.

TA-Lib: every value from TA-Lib's first valid index on must agree to 1e-6 scaled error
(|a − b| / max(1, |b|)), and the first valid index must be TA-Lib's. No extra warm-up is
skipped: we seed EMA, RSI, ATR and ADX exactly as TA-Lib does, so there is nothing to forget.
The live form is held to the same reference (it equals the vectorised one, see
``test_agreement``, but this makes the TA-Lib claim hold for what trades live).

pandas: the seed strategies computed LXAlgo's volatility and changes and Momentum's bands,
RVR and width percentile with pandas; those definitions are reproduced here literally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib

from alphadesk.indicators import (
    ADX,
    ATR,
    EMA,
    RSI,
    SMA,
    Bollinger,
    RollingStd,
    TrueRange,
    atr,
    bar_spread,
    bollinger,
    dmi,
    ema,
    open_close_change,
    pct_change,
    relative_volume,
    return_volatility,
    rolling_percentile_rank,
    rolling_std,
    rsi,
    sma,
    true_range,
)
from alphadesk.indicators.percentile import TIE_RTOL

from .support import Candles, assert_agree, first_valid_index, run_live

TALIB_TOL = 1e-6

# (id, ours, TA-Lib, live factory or None, expected first valid index)
TALIB_CASES: list[tuple[str, Callable[[Candles], Any], Callable[[Candles], Any], Any, int]] = [
    ("EMA240", lambda k: ema(k.close, 240), lambda k: talib.EMA(k.close, 240), None, 239),
    ("EMA600", lambda k: ema(k.close, 600), lambda k: talib.EMA(k.close, 600), None, 599),
    ("EMA20", lambda k: ema(k.close, 20), lambda k: talib.EMA(k.close, 20), None, 19),
    ("SMA20", lambda k: sma(k.close, 20), lambda k: talib.SMA(k.close, 20), None, 19),
    ("SMA200", lambda k: sma(k.close, 200), lambda k: talib.SMA(k.close, 200), None, 199),
    ("RSI14", lambda k: rsi(k.close, 14), lambda k: talib.RSI(k.close, 14), None, 14),
    ("RSI84", lambda k: rsi(k.close, 84), lambda k: talib.RSI(k.close, 84), None, 84),
    (
        "TRANGE",
        lambda k: true_range(k.high, k.low, k.close),
        lambda k: talib.TRANGE(k.high, k.low, k.close),
        None,
        1,
    ),
    (
        "ATR14",
        lambda k: atr(k.high, k.low, k.close, 14),
        lambda k: talib.ATR(k.high, k.low, k.close, 14),
        None,
        14,
    ),
    (
        "ADX14",
        lambda k: dmi(k.high, k.low, k.close, 14).adx,
        lambda k: talib.ADX(k.high, k.low, k.close, 14),
        None,
        27,
    ),
    (
        "PLUS_DI14",
        lambda k: dmi(k.high, k.low, k.close, 14).plus_di,
        lambda k: talib.PLUS_DI(k.high, k.low, k.close, 14),
        None,
        14,
    ),
    (
        "MINUS_DI14",
        lambda k: dmi(k.high, k.low, k.close, 14).minus_di,
        lambda k: talib.MINUS_DI(k.high, k.low, k.close, 14),
        None,
        14,
    ),
    (
        "ADX2",
        lambda k: dmi(k.high, k.low, k.close, 2).adx,
        lambda k: talib.ADX(k.high, k.low, k.close, 2),
        None,
        3,
    ),
    ("STDDEV20", lambda k: rolling_std(k.close, 20), lambda k: talib.STDDEV(k.close, 20), None, 19),
    (
        "STDDEV144",
        lambda k: rolling_std(k.close, 144),
        lambda k: talib.STDDEV(k.close, 144),
        None,
        143,
    ),
    (
        "BBANDS.upper",
        lambda k: bollinger(k.close, 20, 2.0).upper,
        lambda k: talib.BBANDS(k.close, 20, 2.0, 2.0)[0],
        None,
        19,
    ),
    (
        "BBANDS.middle",
        lambda k: bollinger(k.close, 20, 2.0).middle,
        lambda k: talib.BBANDS(k.close, 20, 2.0, 2.0)[1],
        None,
        19,
    ),
    (
        "BBANDS.lower",
        lambda k: bollinger(k.close, 20, 2.0).lower,
        lambda k: talib.BBANDS(k.close, 20, 2.0, 2.0)[2],
        None,
        19,
    ),
]


@pytest.mark.parametrize(
    ("ours", "reference", "first"),
    [pytest.param(case[1], case[2], case[4], id=case[0]) for case in TALIB_CASES],
)
def test_vectorised_matches_talib(
    candles: Candles,
    ours: Callable[[Candles], Any],
    reference: Callable[[Candles], Any],
    first: int,
) -> None:
    got, expected = ours(candles), reference(candles)
    assert first_valid_index(expected) == first
    assert first_valid_index(got) == first
    assert_agree(got, expected, TALIB_TOL, candles.name)


LIVE_CASES: list[tuple[str, Callable[[], Any], Callable[[Candles], Any], str]] = [
    ("EMA600", lambda: EMA(600), lambda k: talib.EMA(k.close, 600), "c"),
    ("SMA20", lambda: SMA(20), lambda k: talib.SMA(k.close, 20), "c"),
    ("RSI84", lambda: RSI(84), lambda k: talib.RSI(k.close, 84), "c"),
    ("STDDEV20", lambda: RollingStd(20), lambda k: talib.STDDEV(k.close, 20), "c"),
    ("TRANGE", TrueRange, lambda k: talib.TRANGE(k.high, k.low, k.close), "hlc"),
    ("ATR14", lambda: ATR(14), lambda k: talib.ATR(k.high, k.low, k.close, 14), "hlc"),
    ("ADX14", lambda: ADX(14), lambda k: talib.ADX(k.high, k.low, k.close, 14), "hlc"),
]


@pytest.mark.parametrize(
    ("factory", "reference", "inputs"),
    [pytest.param(*case[1:], id=case[0]) for case in LIVE_CASES],
)
def test_live_matches_talib(
    candles: Candles, factory: Callable[[], Any], reference: Callable[[Candles], Any], inputs: str
) -> None:
    columns = (candles.close,) if inputs == "c" else (candles.high, candles.low, candles.close)
    assert_agree(run_live(factory(), *columns), reference(candles), TALIB_TOL, candles.name)


def test_live_bollinger_matches_talib(btc_5m: Candles) -> None:
    upper, middle, lower = talib.BBANDS(btc_5m.close, 20, 2.0, 2.0)
    live = Bollinger(20, 2.0)
    got = np.array([live.update(c) or (np.nan,) * 4 for c in btc_5m.close.tolist()])
    for column, expected in enumerate((upper, middle, lower)):
        assert_agree(got[:, column], expected, TALIB_TOL)


# The seed's own pandas expressions (seed_system.md §2.2 and §2.3), pandas defaults kept.
def _seed_bands(close: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    middle = close.rolling(20).mean()
    std = close.rolling(20).std()
    return middle + 2 * std, middle, middle - 2 * std


def _seed_percentile(x: np.ndarray) -> float:
    # "fraction of the other 89 values strictly below", with our 1e-9 tie band (see percentile.py)
    return float(np.mean(x[:-1] < x[-1] - TIE_RTOL * abs(x[-1])))


def test_momentum_matches_seed_pandas(candles: Candles) -> None:
    close, volume = pd.Series(candles.close), pd.Series(candles.volume)
    upper, middle, lower = _seed_bands(close)
    bands = bollinger(candles.close, 20, 2.0, ddof=1)
    assert_agree(bands.upper, upper.to_numpy(), 1e-9, "upper")
    assert_agree(bands.middle, middle.to_numpy(), 1e-9, "middle")
    assert_agree(bands.lower, lower.to_numpy(), 1e-9, "lower")
    seed_width = (upper - lower) / middle
    assert_agree(bands.width, seed_width.to_numpy(), 1e-9, "width")
    seed_rank = seed_width.rolling(90).apply(_seed_percentile, raw=True).to_numpy()
    ours = rolling_percentile_rank(bands.width, 90)
    assert_agree(ours, seed_rank, 0.0, "bbwidth_percentile")
    assert first_valid_index(ours) == 108
    seed_rvr = (volume / volume.rolling(20).mean()).to_numpy()
    assert_agree(relative_volume(candles.volume, 20), seed_rvr, 1e-9, "rvr")


def test_lxalgo_matches_seed_pandas(candles: Candles) -> None:
    close, volume = pd.Series(candles.close), pd.Series(candles.volume)
    seed_volatility = close.pct_change().rolling(144).std().to_numpy()
    assert_agree(return_volatility(candles.close, 144), seed_volatility, 1e-9, "volatility")
    assert first_valid_index(seed_volatility) == 144
    assert_agree(pct_change(candles.close, 144), close.pct_change(144).to_numpy(), 0.0, "price")
    assert_agree(pct_change(candles.volume, 144), volume.pct_change(144).to_numpy(), 0.0, "vol")
    high, low = pd.Series(candles.high), pd.Series(candles.low)
    seed_spread = ((high - low) / close * 100).to_numpy()
    assert_agree(bar_spread(candles.high, candles.low, candles.close) * 100, seed_spread, 1e-12)
    opens = pd.Series(candles.open)
    seed_pump = ((close - opens.shift(12)) / opens.shift(12) * 100).to_numpy()
    assert_agree(open_close_change(candles.open, candles.close, 12) * 100, seed_pump, 1e-9)
