"""Degenerate inputs, bad arguments, and the places where we chose to differ from TA-Lib."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import talib

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
    adx,
    atr,
    bar_spread,
    bollinger,
    dmi,
    ema,
    minus_di,
    open_close_change,
    pct_change,
    plus_di,
    relative_volume,
    return_volatility,
    rolling_percentile_rank,
    rolling_std,
    rsi,
    sma,
    true_range,
)

from .support import Candles, assert_agree, first_valid_index, run_live

# ---------------------------------------------------------------------------- flat markets


def test_flat_prices_follow_talib_without_warnings() -> None:
    """A flat market: RSI 0 (TA-Lib's answer to 0/0), DI and ADX 0, ATR and std exactly 0."""
    flat = np.full(120, 0.1)  # 0.1 is not exact in binary: sums of it round
    assert_agree(rsi(flat, 14), talib.RSI(flat, 14), 0.0)
    assert np.all(rsi(flat, 14)[14:] == 0.0)
    directional = dmi(flat, flat, flat, 14)
    assert_agree(directional.adx, talib.ADX(flat, flat, flat, 14), 0.0)
    assert_agree(directional.plus_di, talib.PLUS_DI(flat, flat, flat, 14), 0.0)
    assert np.all(atr(flat, flat, flat, 14)[14:] == 0.0)
    assert np.all(rolling_std(flat, 20, ddof=1)[19:] == 0.0)
    bands = bollinger(flat, 20, 2.0, ddof=1)
    assert np.all(bands.width[19:] == 0.0)
    assert np.all(rolling_percentile_rank(bands.width, 90)[108:] == 0.0)  # ties are not below
    live_rsi, live_adx, live_bands = RSI(14), ADX(14), Bollinger(20, 2.0, ddof=1)
    for price in flat.tolist():
        live_rsi.update(price)
        live_adx.update(price, price, price)
        live_bands.update(price)
    assert live_rsi.value == 0.0
    assert (live_adx.value, live_adx.plus_di, live_adx.minus_di) == (0.0, 0.0, 0.0)
    assert live_bands.value is not None and live_bands.value.width == 0.0


@pytest.mark.parametrize("period", [20, 288])  # both sides of the exact-variance threshold
def test_window_that_turns_flat_has_exactly_zero_std(period: int) -> None:
    """After big moves leave the window, a flat window must read std 0 in both forms.

    A sliding sum of squares keeps rounding residue from the moves (~1e-17 here), and the square
    root would turn it into a std of ~1e-8: the reason for the exact re-summing in ``_rolling``.
    """
    moves = np.cumprod(np.full(3 * period, 1.013)) * 10.0
    values = np.concatenate((moves, np.full(2 * period, moves[-1])))
    vectorised = rolling_std(values, period, ddof=1)
    live = run_live(RollingStd(period, ddof=1), values)
    assert np.all(vectorised[-period:] == 0.0)
    assert np.all(live[-period:] == 0.0)
    assert_agree(live, vectorised, 1e-9)


def test_zero_volume_window_gives_nan_rvr_in_both_forms() -> None:
    """Twenty zero-volume bars after a spike: 0/0, not 0 from a running sum's residue."""
    volume = np.concatenate(([1e6, 0.1, 0.2, 0.3], np.zeros(25), [5.0]))
    vectorised = relative_volume(volume, 20)
    live = run_live(RelativeVolume(20), volume)
    assert np.isnan(vectorised[-2]) and np.isnan(live[-2])
    assert vectorised[-1] == live[-1] == 20.0
    assert_agree(live, vectorised, 1e-9)


def test_zero_denominators_give_ieee_results_in_both_forms() -> None:
    """A thin symbol's zero-volume bar makes the 144-bar volume change infinite, as in pandas."""
    volume = np.array([0.0, 0.0, 3.0, 0.0, 2.0])
    expected = np.array([np.nan, np.nan, np.inf, np.nan, 2.0 / 3.0 - 1.0])
    got = pct_change(volume, 2)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(run_live(PctChange(2), volume), expected)
    opens, closes = np.array([0.0, 1.0]), np.array([-2.0, 1.5])
    np.testing.assert_array_equal(open_close_change(opens, closes, 0), [-np.inf, 0.5])
    np.testing.assert_array_equal(run_live(OpenCloseChange(0), opens, closes), [-np.inf, 0.5])
    np.testing.assert_array_equal(bar_spread([1.0], [0.5], [0.0]), [np.inf])
    assert BarSpread().update(1.0, 0.5, 0.0) == math.inf


# ------------------------------------------------------------------- where we differ, on purpose


def test_rsi_and_dmi_do_not_depend_on_price_scale(btc_5m: Candles) -> None:
    """At 1e-15 × BTC every move is far below the ``|x| < 1e-8`` "zero" of TA-Lib up to 0.4.

    Such a test would read RSI and DI 0 for a live market; ours (and the TA-Lib build in the
    wheel) test exact zero and give the full-scale values.
    """
    scale = 1e-15
    h, lo, c = btc_5m.high[:2000], btc_5m.low[:2000], btc_5m.close[:2000]
    assert_agree(rsi(c * scale, 14), rsi(c, 14), 1e-9)
    assert_agree(adx(h * scale, lo * scale, c * scale, 14), adx(h, lo, c, 14), 1e-9)
    assert_agree(rsi(c * scale, 14), talib.RSI(c * scale, 14), 1e-6)
    assert_agree(plus_di(h * scale, lo * scale, c * scale, 14), plus_di(h, lo, c, 14), 1e-9)


def test_period_one_di_is_a_percentage_unlike_talib(btc_5m: Candles) -> None:
    """TA-Lib's PLUS_DI/MINUS_DI(period=1) return fractions; ours stay in percent."""
    h, lo, c = btc_5m.high[:500], btc_5m.low[:500], btc_5m.close[:500]
    assert_agree(plus_di(h, lo, c, 1), 100.0 * talib.PLUS_DI(h, lo, c, 1), 1e-9)
    assert_agree(minus_di(h, lo, c, 1), 100.0 * talib.MINUS_DI(h, lo, c, 1), 1e-9)


def test_leading_nans_are_skipped_like_the_talib_wrapper(btc_5m: Candles) -> None:
    """An EMA of an RSI starts when the RSI does, as ``talib.EMA`` on the same column."""
    strength = rsi(btc_5m.close[:3000], 14)
    smoothed = ema(strength, 10)
    assert first_valid_index(smoothed) == 14 + 9
    assert_agree(smoothed, talib.EMA(strength, 10), 1e-9)
    live_rsi, live_ema = RSI(14), EMA(10)
    for close in btc_5m.close[:3000].tolist():
        value = live_rsi.update(close)
        if value is not None:
            live_ema.update(value)
    assert live_ema.value == smoothed[-1]


def test_percentile_rank_counts_strictly_below() -> None:
    np.testing.assert_array_equal(rolling_percentile_rank([1.0, 2.0, 3.0, 4.0, 5.0], 5)[-1], 1.0)
    np.testing.assert_array_equal(rolling_percentile_rank([5.0, 4.0, 3.0, 2.0, 1.0], 5)[-1], 0.0)
    values = [2.0, 1.0, 2.0, 3.0, 2.0]  # below 2.0: just the 1.0; the other 2.0s are ties
    assert rolling_percentile_rank(values, 5)[-1] == 0.25
    assert run_live(RollingPercentileRank(5), np.array(values))[-1] == 0.25
    assert rolling_percentile_rank([1.0, np.nan, 1.0, 2.0], 3)[-1] != 0.5  # NaN in window: NaN


def test_percentile_rank_is_nan_exactly_on_windows_holding_a_nan() -> None:
    ranks = rolling_percentile_rank([1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0, np.nan], 3)
    assert np.isnan(ranks).tolist() == [True] * 5 + [False, False, True]
    assert ranks[5:7].tolist() == [1.0, 1.0]


def test_bollinger_sample_std_is_wider_by_sqrt_n_over_n_minus_1(btc_5m: Candles) -> None:
    population = bollinger(btc_5m.close, 20, 2.0, ddof=0)
    sample = bollinger(btc_5m.close, 20, 2.0, ddof=1)
    ratio = (sample.upper - sample.middle)[19:] / (population.upper - population.middle)[19:]
    np.testing.assert_allclose(ratio, math.sqrt(20 / 19), rtol=1e-12)


# ------------------------------------------------------------------------------ short inputs

# (id, indicator of one rising series, its first valid index)
VECTORISED: list[tuple[str, Callable[[np.ndarray], Any], int]] = [
    ("ema", lambda x: ema(x, 5), 4),
    ("sma", lambda x: sma(x, 5), 4),
    ("rsi", lambda x: rsi(x, 5), 5),
    ("true_range", lambda x: true_range(x + 1, x - 1, x), 1),
    ("atr", lambda x: atr(x + 1, x - 1, x, 5), 5),
    ("adx", lambda x: adx(x + 1, x - 1, x, 5), 9),
    ("plus_di", lambda x: plus_di(x + 1, x - 1, x, 5), 5),
    ("minus_di", lambda x: minus_di(x + 1, x - 1, x, 5), 5),
    ("bollinger", lambda x: np.stack(bollinger(x, 5)), 4),
    ("rolling_std", lambda x: rolling_std(x, 5), 4),
    ("return_volatility", lambda x: return_volatility(x, 5), 5),
    ("pct_change", lambda x: pct_change(x, 5), 5),
    ("open_close_change", lambda x: open_close_change(x, x, 5), 5),
    ("relative_volume", lambda x: relative_volume(x, 5), 4),
    ("rolling_percentile_rank", lambda x: rolling_percentile_rank(x, 5), 4),
]


@pytest.mark.parametrize(
    ("indicator", "first"),
    [pytest.param(f, first, id=name) for name, f, first in VECTORISED],
)
def test_too_short_input_is_all_nan(indicator: Callable[[np.ndarray], Any], first: int) -> None:
    """Shorter than the first valid index + 1 (empty included): all NaN, same length, no error."""
    for length in sorted({0, 1, first}):
        result = np.asarray(indicator(np.linspace(100.0, 101.0, length)))
        assert result.shape[-1] == length
        assert np.isnan(result).all(), length
    one_more = np.asarray(indicator(np.linspace(100.0, 101.0, first + 1)))
    assert not np.isnan(one_more[..., -1]).any()


# ------------------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ema([1.0], 0), "period must be >= 1, got 0"),
        (lambda: sma([1.0], -3), "period must be >= 1, got -3"),
        (lambda: rsi([1.0], 2.5), r"period must be an integer >= 1, got 2\.5"),  # type: ignore[arg-type]
        (lambda: atr([1.0], [1.0], [1.0], True), "period must be an integer >= 1, got True"),
        (lambda: EMA(0), "period must be >= 1, got 0"),
        (lambda: ADX(-1), "period must be >= 1, got -1"),
        (lambda: RollingPercentileRank(1), "window must be >= 2, got 1"),
        (lambda: rolling_percentile_rank([1.0], 1), "window must be >= 2, got 1"),
        (lambda: pct_change([1.0], 0), "periods must be >= 1, got 0"),
        (lambda: OpenCloseChange(-1), "lookback must be >= 0, got -1"),
        (lambda: rolling_std([1.0], 5, ddof=5), r"ddof must be < period \(5\), got 5"),
        (lambda: RollingStd(5, ddof=-1), "ddof must be >= 0, got -1"),
        (lambda: Bollinger(20, nbdev=-2.0), "nbdev must be a finite number >= 0, got -2.0"),
        (lambda: bollinger([1.0], 20, nbdev=math.nan), "nbdev must be a finite number >= 0"),
        (lambda: atr([1.0, 2.0], [1.0], [1.0, 2.0]), "high=2, low=1, close=2"),
        (lambda: dmi([1.0], [1.0], [1.0, 2.0]), "same length"),
        (lambda: bar_spread([1.0], [1.0, 2.0], [1.0]), "same length"),
        (lambda: open_close_change([1.0], [1.0, 2.0]), r"open_, close must have the same length"),
        (lambda: sma(np.ones((3, 2)), 2), r"values must be one-dimensional, got shape \(3, 2\)"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("indicator", "bar", "message"),
    [
        (EMA(3), (math.nan,), "value must be a finite number, got nan"),
        (SMA(3), (math.inf,), "value must be a finite number, got inf"),
        (RSI(3), (math.nan,), "close must be a finite number"),
        (ATR(3), (1.0, math.nan, 1.0), "low must be a finite number"),
        (TrueRange(), (math.nan, 1.0, 1.0), "high must be a finite number"),
        (ADX(3), (1.0, 1.0, -math.inf), "close must be a finite number"),
        (Bollinger(3), (math.nan,), "close must be a finite number"),
        (RollingStd(3), (math.nan,), "value must be a finite number"),
        (ReturnVolatility(3), (math.nan,), "value must be a finite number"),
        (PctChange(3), (math.nan,), "value must be a finite number"),
        (OpenCloseChange(3), (math.nan, 1.0), "open_ must be a finite number"),
        (RelativeVolume(3), (math.nan,), "volume must be a finite number"),
        (RollingPercentileRank(3), (math.nan,), "value must be a finite number"),
        (BarSpread(), (1.0, 1.0, math.nan), "close must be a finite number"),
    ],
)
def test_live_indicators_refuse_non_finite_bars(
    indicator: Any, bar: tuple[float, ...], message: str
) -> None:
    """One NaN would poison weeks of live state, so ``update`` refuses it and keeps its state."""
    with pytest.raises(ValueError, match=message):
        indicator.update(*bar)
    assert indicator.value is None
