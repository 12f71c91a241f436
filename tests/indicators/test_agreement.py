"""Vectorised and incremental forms agree over whole real-candle files.

Tolerance is the scaled error |a − b| / max(1, |b|) (absolute up to 1, relative above):
- 0 (bit-identical) for the recursive indicators, whose vectorised form replays the live step,
  and for the elementwise ones (changes, spread, percentile rank);
- 1e-9 for the windowed moments (SMA, std, Bollinger, RVR, volatility), where the vectorised
  form sums each window with numpy and the live one keeps an exact sliding sum (see _rolling).
Every live indicator's ``lookback`` must equal the vectorised first valid index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from alphadesk.indicators import (
    ADX,
    ATR,
    EMA,
    RSI,
    SMA,
    BarSpread,
    Bollinger,
    OpenCloseChange,
    PctChange,
    RelativeVolume,
    ReturnVolatility,
    RollingPercentileRank,
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

from .support import Candles, assert_agree, first_valid_index, run_live

Columns = Callable[[Candles], tuple[np.ndarray, ...]]


def _close(k: Candles) -> tuple[np.ndarray, ...]:
    return (k.close,)


def _hlc(k: Candles) -> tuple[np.ndarray, ...]:
    return (k.high, k.low, k.close)


# (id, vectorised over the columns, live factory, columns, tolerance)
CASES: list[tuple[str, Callable[..., np.ndarray], Callable[[], Any], Columns, float]] = [
    ("ema240", lambda c: ema(c, 240), lambda: EMA(240), _close, 0.0),
    ("ema600", lambda c: ema(c, 600), lambda: EMA(600), _close, 0.0),
    ("ema1", lambda c: ema(c, 1), lambda: EMA(1), _close, 0.0),
    ("sma20", lambda c: sma(c, 20), lambda: SMA(20), _close, 1e-9),
    ("sma200", lambda c: sma(c, 200), lambda: SMA(200), _close, 1e-9),
    ("rsi14", lambda c: rsi(c, 14), lambda: RSI(14), _close, 0.0),
    ("rsi84", lambda c: rsi(c, 84), lambda: RSI(84), _close, 0.0),
    ("true_range", true_range, TrueRange, _hlc, 0.0),
    ("atr14", lambda h, lo, c: atr(h, lo, c, 14), lambda: ATR(14), _hlc, 0.0),
    ("std20", lambda c: rolling_std(c, 20), lambda: RollingStd(20), _close, 1e-9),
    ("std20_ddof1", lambda c: rolling_std(c, 20, 1), lambda: RollingStd(20, 1), _close, 1e-9),
    # Past EXACT_VARIANCE_MAX_PERIOD: the sliding update with periodic exact re-summing.
    ("std288", lambda c: rolling_std(c, 288), lambda: RollingStd(288), _close, 1e-9),
    ("return_vol144", return_volatility, ReturnVolatility, _close, 1e-9),
    ("pct_change1", pct_change, PctChange, _close, 0.0),
    ("price_change144", lambda c: pct_change(c, 144), lambda: PctChange(144), _close, 0.0),
    (
        "volume_change144",
        lambda v: pct_change(v, 144),
        lambda: PctChange(144),
        lambda k: (k.volume,),
        0.0,
    ),
    ("pump12", open_close_change, OpenCloseChange, lambda k: (k.open, k.close), 0.0),
    ("spread", bar_spread, BarSpread, _hlc, 0.0),
    ("rvr20", relative_volume, RelativeVolume, lambda k: (k.volume,), 1e-9),
    ("percentile_rank90", rolling_percentile_rank, RollingPercentileRank, _close, 0.0),
]


@pytest.mark.parametrize(
    ("vectorised", "factory", "columns", "tol"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_live_matches_vectorised(
    candles: Candles,
    vectorised: Callable[..., np.ndarray],
    factory: Callable[[], Any],
    columns: Columns,
    tol: float,
) -> None:
    inputs = columns(candles)
    expected = vectorised(*inputs)
    live = factory()
    assert_agree(run_live(live, *inputs), expected, tol, candles.name)
    assert live.lookback == first_valid_index(expected)


def test_adx_and_di_live_match_vectorised(candles: Candles) -> None:
    expected = dmi(candles.high, candles.low, candles.close, 14)
    live = ADX(14)
    n = len(candles.close)
    adx_live, plus_live, minus_live = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i, bar in enumerate(zip(*(x.tolist() for x in _hlc(candles)), strict=True)):
        value = live.update(*bar)
        assert live.value == value
        if value is not None:
            adx_live[i] = value
        if live.plus_di is not None and live.minus_di is not None:
            plus_live[i], minus_live[i] = live.plus_di, live.minus_di
    assert_agree(adx_live, expected.adx, 0.0, "adx")
    assert_agree(plus_live, expected.plus_di, 0.0, "+di")
    assert_agree(minus_live, expected.minus_di, 0.0, "-di")
    assert live.lookback == first_valid_index(expected.adx) == 27


@pytest.mark.parametrize("ddof", [0, 1])
def test_bollinger_live_matches_vectorised(candles: Candles, ddof: int) -> None:
    expected = bollinger(candles.close, 20, 2.0, ddof)
    live = Bollinger(20, 2.0, ddof)
    got = np.full((len(candles.close), 4), np.nan)
    for i, close in enumerate(candles.close.tolist()):
        value = live.update(close)
        assert live.value == value
        if value is not None:
            got[i] = value
    for field_index, field in enumerate(expected._fields):
        assert_agree(got[:, field_index], getattr(expected, field), 1e-9, field)
    assert live.lookback == first_valid_index(expected.middle) == 19


def test_momentum_squeeze_pipeline_live_matches_vectorised(candles: Candles) -> None:
    """Bollinger(20, 2, ddof=1) width → 90-bar percentile rank, as Momentum chains them live.

    The live rank is fed only once the bands exist, and must still line up bar for bar with the
    vectorised rank of the width column (NaN during both warm-ups: first value at 19 + 89).
    """
    width = bollinger(candles.close, 20, 2.0, ddof=1).width
    expected = rolling_percentile_rank(width, 90)
    bands, rank = Bollinger(20, 2.0, ddof=1), RollingPercentileRank(90)
    got = np.full(len(width), np.nan)
    for i, close in enumerate(candles.close.tolist()):
        band = bands.update(close)
        if band is not None and (value := rank.update(band.width)) is not None:
            got[i] = value
    # Widths agree to 1e-9, so a rank may flip only where two widths tie to 1e-9: none here.
    assert_agree(got, expected, 0.0, "bbwidth percentile")
    assert first_valid_index(expected) == 19 + 89
