"""Feature mapping: the vectorised and incremental forms of every spec give the same values."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import talib

from alphadesk import indicators
from alphadesk.domain.bars import Bar
from alphadesk.strategies import specs
from alphadesk.strategies.features import (
    FeatureTable,
    LiveFeatures,
    Ohlcv,
    _column,
    compute,
    compute_all,
)
from alphadesk.strategies.specs import IndicatorSpec

ALL_SPECS: dict[str, IndicatorSpec] = {
    "close": specs.source("close"),
    "open_lag": specs.lag("open", 12),
    "ema": specs.ema(26),
    "sma": specs.sma(20),
    "sma_vol": specs.sma(20, "volume"),
    "rsi": specs.rsi(84),
    "atr": specs.atr(14),
    "adx": specs.adx(14),
    "plus_di": specs.plus_di(14),
    "minus_di": specs.minus_di(14),
    "bb_upper": specs.bb_upper(20, 2.0, 1),
    "bb_lower": specs.bb_lower(20, 2.0, 0),
    "bb_width": specs.bb_width(20, 2.0, 1),
    "bb_width_pct": specs.bb_width_percentile(20, 2.0, 1, 90),
    "returns_std": specs.returns_std(144),
    "pct_change": specs.pct_change(144),
    "volume_change": specs.pct_change(144, "volume"),
    "pump": specs.open_close_change(12),
    "spread": specs.bar_spread(),
    "rvr": specs.relative_volume(20),
}


@pytest.fixture(scope="module")
def bars(bars_5m: Callable[[str], list[Bar]]) -> list[Bar]:
    return bars_5m("SOLUSDT")[:1500]


def test_live_and_vectorised_agree_on_real_candles(bars: list[Bar]) -> None:
    table = FeatureTable(ALL_SPECS, Ohlcv.from_bars(bars))
    live = LiveFeatures(ALL_SPECS)
    got: dict[str, list[float]] = {name: [] for name in ALL_SPECS}
    for bar in bars:
        row = live.update(bar)
        for name in ALL_SPECS:
            got[name].append(row[name])
    for name, expected in table.arrays.items():
        actual = np.array(got[name])
        assert np.array_equal(np.isnan(actual), np.isnan(expected)), name
        assert np.isfinite(expected[-1]), f"{name} never warmed up"
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_table_computes_shared_bands_once(
    bars: list[Bar], monkeypatch: pytest.MonkeyPatch
) -> None:
    """bb_upper and bb_width_pct of the same bands (Momentum's pair) share one computation, and
    each column is the one ``compute`` gives alone; other bands are computed on their own."""
    chosen = {n: ALL_SPECS[n] for n in ("bb_upper", "bb_width", "bb_width_pct", "bb_lower")}
    ohlcv = Ohlcv.from_bars(bars)
    alone = {name: compute(spec, ohlcv) for name, spec in chosen.items()}
    calls: list[tuple[int, float, int]] = []
    real = indicators.bollinger

    def counted(
        close: npt.ArrayLike, period: int, nbdev: float, ddof: int
    ) -> indicators.BollingerBands:
        calls.append((period, nbdev, ddof))
        return real(close, period, nbdev, ddof)

    monkeypatch.setattr(indicators, "bollinger", counted)  # what features calls as ta.bollinger
    table = FeatureTable(chosen, ohlcv)
    assert sorted(calls) == [(20, 2.0, 0), (20, 2.0, 1)]  # ddof 1 once for three columns
    for name, column in alone.items():
        assert np.array_equal(table.arrays[name], column, equal_nan=True), name


def test_values_match_independent_references(bars: list[Bar]) -> None:
    ohlcv = Ohlcv.from_bars(bars)
    np.testing.assert_allclose(compute(specs.ema(26), ohlcv), talib.EMA(ohlcv.close, 26), rtol=1e-9)
    np.testing.assert_allclose(compute(specs.rsi(84), ohlcv), talib.RSI(ohlcv.close, 84), rtol=1e-9)
    lagged = compute(specs.lag("open", 12), ohlcv)
    assert lagged[12] == ohlcv.open[0] and np.isnan(lagged[11])
    pump = compute(specs.open_close_change(12), ohlcv)
    assert pump[20] == pytest.approx(ohlcv.close[20] / ohlcv.open[8] - 1)


def test_bollinger_columns_share_bands_but_not_arrays(bars: list[Bar]) -> None:
    """A table computes each band set once; its columns are still the bits each spec gives on
    its own, and no two are one array (writing into one must not change another)."""
    ohlcv = Ohlcv.from_bars(bars)
    wanted = {
        "upper": specs.bb_upper(20, 2.0, 1),
        "pct": specs.bb_width_percentile(20, 2.0, 1, 90),
        "lower": specs.bb_lower(20, 2.0, 1),
        "width": specs.bb_width(20, 2.0, 1),
        "again": specs.bb_upper(20, 2.0, 1),
        "wider": specs.bb_upper(20, 2.5, 1),
        "population": specs.bb_upper(20, 2.0, 0),
    }
    together = compute_all(wanted, ohlcv)
    for name, spec in wanted.items():
        alone = compute(spec, ohlcv)
        assert np.array_equal(together[name].view(np.int64), alone.view(np.int64)), name
    assert len({id(column) for column in together.values()}) == len(wanted)
    assert not np.shares_memory(together["upper"], together["again"])
    assert np.nanmin(together["wider"] - together["upper"]) > 0
    assert np.nanmin(together["upper"] - together["population"]) > 0


def test_rows_read_current_and_previous_values(bars: list[Bar]) -> None:
    table = FeatureTable({"close": specs.source("close")}, Ohlcv.from_bars(bars[:5]))
    row = table.row()
    assert np.isnan(row.at(0).prev("close"))
    assert row.at(3).close == bars[3].close
    assert row["close"] == bars[3].close
    assert row.prev("close") == bars[2].close and row.prev("close", 3) == bars[0].close
    with pytest.raises(AttributeError, match="nope"):
        _ = row.nope
    live = LiveFeatures({"close": specs.source("close")}, history=2)
    for bar in bars[:3]:
        lrow = live.update(bar)
    assert (lrow.close, lrow.prev("close"), lrow.prev("close", 2)) == tuple(
        b.close for b in reversed(bars[:3])
    )
    assert np.isnan(lrow.prev("close", 3))


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="field"):
        specs.ema(10, "vwap")
    with pytest.raises(ValueError, match="period"):
        specs.sma(0)
    with pytest.raises(ValueError, match="unknown"):
        compute(IndicatorSpec("unknown"), Ohlcv.of([1.0], [1.0], [1.0], [1.0], [1.0]))


@pytest.mark.parametrize(
    ("name", "symbols", "overrides"),
    [
        ("shortseller", ("BTCUSDT", "ETHUSDT", "SOLUSDT"), {}),
        ("lxalgo", ("SOLUSDT", "ETHUSDT"), {"pump_threshold_pct": 3.0}),
        ("ema_cross", ("BTCUSDT",), {}),
    ],
)
def test_backtest_and_live_feature_paths_give_the_same_intents(
    bars_5m: Callable[[str], list[Bar]],
    name: str,
    symbols: tuple[str, ...],
    overrides: dict[str, object],
) -> None:
    from alphadesk.strategies import build
    from alphadesk.testing.strategy_harness import RecordingContext, drive

    data = {s: bars_5m(s)[:6000] for s in symbols}
    live = drive(build(name, **overrides), data, RecordingContext(name))
    table = drive(build(name, **overrides), data, RecordingContext(name), vectorised=True)
    assert live
    assert table == live


def _old_column(values: npt.NDArray[np.float64]) -> list[float] | array[float]:
    """The column as FeatureTable built it before reading the buffer in place (via tobytes)."""
    column = array("d")
    if values.dtype != np.float64 or values.ndim != 1:
        return list(values.tolist())
    column.frombytes(np.ascontiguousarray(values).tobytes())
    return column


def test_columns_read_in_place_equal_the_tobytes_copy(bars: list[Bar]) -> None:
    """The row's columns are the same floats, bit for bit, as the two-copy form gave: every
    column of every spec over real candles, and strided, reversed, empty, non-finite, signed-zero
    and subnormal inputs; a non-float64 or 2-D input still becomes a list. A column is a copy:
    writing into the numpy array afterwards does not change it."""
    table = FeatureTable(ALL_SPECS, Ohlcv.from_bars(bars))
    odd = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -2.2250738585072014e-308, 1e308])
    real = table.arrays["bb_width_pct"]
    inputs: list[npt.NDArray[Any]] = [
        *table.arrays.values(),
        odd,
        odd[::-1],
        real[::3],
        real[5:17],
        np.empty(0),
        np.arange(6, dtype=np.int64),
        np.arange(6, dtype=np.float32) / 3,
        np.arange(6.0).reshape(2, 3),
    ]
    for values in inputs:
        new, old = _column(values), _old_column(values)
        assert type(new) is type(old)
        assert len(new) == len(old)
        if isinstance(new, array):
            assert isinstance(old, array) and new.tobytes() == old.tobytes()
        else:
            assert new == old
    for name, values in table.arrays.items():
        assert table.row(len(bars) - 1)[name] == _old_column(values)[-1] or np.isnan(values[-1])
    source = odd.copy()
    kept = _column(source)
    source[:] = 1.0
    assert isinstance(kept, array) and kept.tobytes() == odd.tobytes()
