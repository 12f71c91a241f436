"""The TA-Lib vectorised EMA/RSI (``indicators.native``) against the replayed reference forms.

Backtests compute EMA and RSI columns with TA-Lib in C; live trading steps the pure-Python
classes. The two must agree to 1e-9 (relative) on real candles, start on the same bar, and every
case the native module hands back to the replay (a gap in the input, period 1, TA-Lib absent)
must give the replay's result bit for bit. Periods include the live strategies' own:
ShortSeller's EMA 240/600 and LXAlgo's RSI 84.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import talib

from alphadesk import indicators as ta
from alphadesk.domain.bars import Bar
from alphadesk.indicators import native
from alphadesk.indicators._types import FloatArray
from alphadesk.strategies import specs
from alphadesk.strategies.features import LiveFeatures, Ohlcv, compute, incremental
from alphadesk.strategies.specs import IndicatorSpec

from .conftest import CANDLE_FILES
from .support import Candles, load_candles

RTOL = 1e-9
EMA_PERIODS = (2, 9, 26, 50, 240, 600)
RSI_PERIODS = (2, 14, 84)

Fn = Callable[[FloatArray, int], FloatArray]
PAIRS: dict[str, tuple[Fn, Fn, Callable[[int], int]]] = {
    # name: (native, replay, first valid index for a period on gap-free input)
    "ema": (native.ema, ta.ema, lambda p: p - 1),
    "rsi": (native.rsi, ta.rsi, lambda p: p),
}
CASES = [("ema", p) for p in EMA_PERIODS] + [("rsi", p) for p in RSI_PERIODS]


def _first_valid(values: FloatArray) -> int:
    hits = np.flatnonzero(~np.isnan(values))
    return int(hits[0]) if hits.size else len(values)


def _agree(fast: FloatArray, reference: FloatArray) -> None:
    """Same NaN positions, and every number within 1e-9 relative of the reference."""
    assert fast.shape == reference.shape and fast.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(reference))
    valid = ~np.isnan(reference)
    np.testing.assert_allclose(fast[valid], reference[valid], rtol=RTOL, atol=0.0)


def _identical(a: FloatArray, b: FloatArray) -> None:
    np.testing.assert_array_equal(a, b)  # NaN == NaN here; numbers must match exactly
    assert a.tobytes() == b.tobytes()


def _series(candles: Candles, field: str) -> FloatArray:
    values: FloatArray = getattr(candles, field)
    return values


# -- TA-Lib path vs replay on real candles -------------------------------------------------------


def test_talib_is_installed_and_used() -> None:
    """The fast path under test is really TA-Lib's (not a silent fallback to the replay)."""
    assert native._talib is talib
    x = np.linspace(100.0, 200.0, 700) + np.sin(np.arange(700.0)) * 3
    _identical(native.ema(x, 240), talib.EMA(x, timeperiod=240))
    _identical(native.rsi(x, 84), talib.RSI(x, timeperiod=84))


@pytest.mark.parametrize(("kind", "period"), CASES)
@pytest.mark.parametrize("field", ["close", "volume"])
def test_native_agrees_with_replay_on_real_candles(
    candles: Candles, kind: str, period: int, field: str
) -> None:
    fast_fn, replay_fn, lookback = PAIRS[kind]
    values = _series(candles, field)
    fast, reference = fast_fn(values, period), replay_fn(values, period)
    _agree(fast, reference)
    assert _first_valid(fast) == _first_valid(reference) == lookback(period)


@pytest.mark.parametrize(("kind", "period"), CASES)
def test_first_valid_index_matches_live_lookback(btc_5m: Candles, kind: str, period: int) -> None:
    fast_fn, _replay, _ = PAIRS[kind]
    live = ta.EMA(period) if kind == "ema" else ta.RSI(period)
    assert _first_valid(fast_fn(btc_5m.close, period)) == live.lookback


@pytest.mark.parametrize(("kind", "period"), [("ema", 240), ("rsi", 84)])
def test_leading_nans_are_skipped_the_same_way(btc_5m: Candles, kind: str, period: int) -> None:
    """An indicator of an indicator starts after the upstream warm-up NaNs: still TA-Lib's path,
    still in agreement, first value ``lookback`` bars after the first number."""
    fast_fn, replay_fn, lookback = PAIRS[kind]
    values = btc_5m.close[:3000].copy()
    values[:37] = np.nan
    assert native._gap_free(values)
    fast, reference = fast_fn(values, period), replay_fn(values, period)
    _agree(fast, reference)
    assert _first_valid(fast) == 37 + lookback(period)


def test_too_short_input_is_all_nan_in_both_forms(btc_5m: Candles) -> None:
    for kind, period in (("ema", 600), ("rsi", 84)):
        fast_fn, replay_fn, lookback = PAIRS[kind]
        values = btc_5m.close[: lookback(period)]
        fast, reference = fast_fn(values, period), replay_fn(values, period)
        assert np.isnan(fast).all() and np.isnan(reference).all()
        assert len(fast) == len(reference) == lookback(period)


# -- fallbacks give the replay exactly -----------------------------------------------------------


@pytest.mark.parametrize(("kind", "period"), [("ema", 26), ("ema", 240), ("rsi", 14), ("rsi", 84)])
@pytest.mark.parametrize("gap_at", [500, 2999])
def test_gap_after_first_number_falls_back_to_the_replay(
    btc_5m: Candles, kind: str, period: int, gap_at: int
) -> None:
    fast_fn, replay_fn, _ = PAIRS[kind]
    values = btc_5m.close[:3000].copy()
    values[gap_at] = np.nan
    assert not native._gap_free(values)
    fast = fast_fn(values, period)
    _identical(fast, replay_fn(values, period))
    # the replay's contract: a gap poisons everything after it (TA-Lib would restart instead)
    assert np.isnan(fast[gap_at:]).all()
    assert not np.isnan(fast[gap_at - 1])


@pytest.mark.parametrize("kind", ["ema", "rsi"])
def test_period_one_falls_back_to_the_replay(candles: Candles, kind: str) -> None:
    fast_fn, replay_fn, _ = PAIRS[kind]
    _identical(fast_fn(candles.close, 1), replay_fn(candles.close, 1))


def test_period_one_values(btc_5m: Candles) -> None:
    x = btc_5m.close[:200]
    _identical(native.ema(x, 1), x.astype(np.float64))
    # RSI(1) is 100 on an up bar and 0 on a down or flat one
    expected = np.where(np.diff(x) > 0, 100.0, 0.0)
    assert np.isnan(native.rsi(x, 1)[0])
    _identical(native.rsi(x, 1)[1:], expected)


@pytest.mark.parametrize(("kind", "period"), CASES)
def test_without_talib_the_replay_runs(
    monkeypatch: pytest.MonkeyPatch, btc_5m: Candles, kind: str, period: int
) -> None:
    """A Python without the TA-Lib wheel (the import guard leaves ``_talib`` None)."""
    fast_fn, replay_fn, _ = PAIRS[kind]
    values = btc_5m.close[:5000]
    monkeypatch.setattr(native, "_talib", None)
    _identical(fast_fn(values, period), replay_fn(values, period))


def test_bad_arguments_are_refused_like_the_replay() -> None:
    for fn in (native.ema, native.rsi, ta.ema, ta.rsi):
        with pytest.raises(ValueError, match="period"):
            fn(np.ones(10), 0)


# -- backtest features vs the live incremental path ----------------------------------------------


FEATURE_SPECS: dict[str, IndicatorSpec] = {
    **{f"ema{p}": specs.ema(p) for p in EMA_PERIODS},
    "ema26_open": specs.ema(26, "open"),
    "ema50_volume": specs.ema(50, "volume"),
    **{f"rsi{p}": specs.rsi(p) for p in RSI_PERIODS},
    "rsi14_high": specs.rsi(14, "high"),
}


def _bars(candles: Candles, ts: np.ndarray, interval_min: int) -> list[Bar]:
    return [
        Bar("BTCUSDT", interval_min, int(t), o, h, lo, c, v)
        for t, o, h, lo, c, v in zip(
            ts.tolist(),
            candles.open.tolist(),
            candles.high.tolist(),
            candles.low.tolist(),
            candles.close.tolist(),
            candles.volume.tolist(),
            strict=True,
        )
    ]


@pytest.fixture(scope="module")
def btc_5m_bars(market_csv: Callable[[str], Path]) -> tuple[Ohlcv, list[Bar]]:
    path = market_csv(CANDLE_FILES["btc-5m"])
    candles = load_candles(path)
    ts = np.loadtxt(path, delimiter=",", skiprows=1, usecols=0, dtype=np.int64)
    bars = _bars(candles, ts, 5)
    ohlcv = Ohlcv.of(candles.open, candles.high, candles.low, candles.close, candles.volume)
    return ohlcv, bars


def test_backtest_columns_equal_the_live_features(btc_5m_bars: tuple[Ohlcv, list[Bar]]) -> None:
    ohlcv, bars = btc_5m_bars
    live = LiveFeatures(FEATURE_SPECS)
    rows = []
    for bar in bars:
        row = live.update(bar)
        rows.append({name: row[name] for name in FEATURE_SPECS})
    for name, spec in FEATURE_SPECS.items():
        column = compute(spec, ohlcv)
        stepped = np.array([row[name] for row in rows])
        _agree(column, stepped)
        # and the backtest column is the TA-Lib one, not a replay in disguise
        period = int(spec.arg("period"))
        source = ohlcv.field(str(spec.arg("field")))
        talib_fn = talib.EMA if spec.kind == "ema" else talib.RSI
        _identical(column, talib_fn(source, timeperiod=period))


@pytest.mark.parametrize("name", ["ema240", "ema600", "rsi84"])
def test_incremental_step_matches_compute(btc_5m_bars: tuple[Ohlcv, list[Bar]], name: str) -> None:
    """``incremental(spec)`` alone (what a live strategy builds) on a 4-hour-ish slice."""
    ohlcv, bars = btc_5m_bars
    spec = FEATURE_SPECS[name]
    step = incremental(spec)
    stepped = np.array([np.nan if (v := step(bar)) is None else v for bar in bars[:4000]])
    column = compute(spec, Ohlcv.of(*(a[:4000] for a in _columns(ohlcv))))
    _agree(column, stepped)
    assert (
        _first_valid(column)
        == _first_valid(stepped)
        == int(spec.arg("period")) - (1 if spec.kind == "ema" else 0)
    )


def _columns(ohlcv: Ohlcv) -> tuple[FloatArray, ...]:
    return ohlcv.open, ohlcv.high, ohlcv.low, ohlcv.close, ohlcv.volume
