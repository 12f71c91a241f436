"""Momentum reads its row in two branches: on the backtest's ArrayRow (a direct, compiled call on
the native build) and on any other ``Row`` the breakout test, the strength and the held bar's SMA
are what the former protocol reads gave, bit for bit, NaN warm-up included; and the regime filter
flag read once at construction is the params' truthiness."""

from __future__ import annotations

import math
import struct
from array import array

import pytest
from tests.strategies.row_doubles import DictRow

from alphadesk.domain.enums import Side
from alphadesk.domain.intents import ExitIntent
from alphadesk.strategies import build
from alphadesk.strategies.momentum import Momentum, _sma
from alphadesk.strategies.rows import ArrayRow, row_type
from alphadesk.testing.strategy_harness import RecordingContext, make_bar, utc_ms

NAN = math.nan
COLS = {
    "bbw_pct": array("d", [NAN, 0.1, 0.35, 0.0, 0.2, 0.1, -0.0, 0.34]),
    "bb_upper": array("d", [NAN, 99.0, 99.0, 99.0, 101.0, 99.0, 99.0, 1e-300]),
    "rvr": array("d", [NAN, 3.0, 3.0, 6.0, 4.0, 2.0, 1e300, 2.0000001]),
    "sma": array("d", [NAN, 95.0, 95.0, 80.0, 95.0, 95.0, 100.0, 5e-324]),
}
CLOSES = (100.0, 98.0, 99.0, -0.0, 1e300)


def _bits(value: float) -> bytes:
    return struct.pack("d", value)


def _strategy(**overrides: object) -> Momentum:
    strategy = build("momentum", **overrides)
    assert isinstance(strategy, Momentum)
    return strategy


@pytest.mark.parametrize("i", range(len(COLS["sma"])))
def test_breakout_strength_and_sma_read_what_the_row_protocol_reads(i: int) -> None:
    s = _strategy()
    p = s.params
    for row in (ArrayRow(COLS, i), row_type(COLS)(COLS, i), DictRow(COLS, i)):
        assert _bits(_sma(row)) == _bits(row["sma"])
        for close in CLOSES:
            spelled_breakout = (
                row["bbw_pct"] < p.max_width_percentile
                and close > row["bb_upper"]
                and row["rvr"] > p.min_rvr
                and close > row["sma"]
            )
            assert s.is_breakout(close, row) is spelled_breakout
            sma, width, rvr = row["sma"], row["bbw_pct"], row["rvr"]
            spelled_strength = (
                (1.0 - width) + min(rvr / 5.0, 1.0) + min(((close - sma) / sma) / 0.10, 1.0)
            ) / 3.0
            assert _bits(s.strength(close, row)) == _bits(spelled_strength)


@pytest.mark.parametrize("compiled_row", [True, False])
def test_a_held_symbol_exits_under_the_sma_on_either_row(compiled_row: bool) -> None:
    s, ctx = _strategy(), RecordingContext()
    t = utc_ms(2025, 10, 8, 8, 0)
    ctx.now_ms = t
    ctx.book.open("AUSDT", Side.BUY, "100", t - 4 * 3_600_000)
    cols = {name: array("d", [v]) for name, v in {"sma": 95.0, "bbw_pct": 0.1}.items()}
    row = ArrayRow(cols, 0) if compiled_row else row_type(cols)(cols, 0)
    s.on_bar(ctx, make_bar("AUSDT", t, 95.5, interval_min=240), row)
    assert ctx.take() == []
    s.on_bar(ctx, make_bar("AUSDT", t, 94.5, interval_min=240), row)
    (intent,) = ctx.take()
    assert isinstance(intent, ExitIntent) and intent.reason == "ma_exit"


@pytest.mark.parametrize("flag", [False, True])
def test_the_regime_flag_is_the_params_truthiness(flag: bool) -> None:
    s = _strategy(use_btc_regime_filter=flag)
    assert s._regime_filter is bool(s.params.use_btc_regime_filter) is flag
