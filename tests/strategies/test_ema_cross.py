"""ema_cross: backtesting.py's crossover rule, long only, all equity at leverage 1."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import talib

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EnterIntent, EquityFraction, ExitIntent, Intent
from alphadesk.strategies import build
from alphadesk.testing.strategy_harness import RecordingContext, ValuesRow, drive, make_bar, utc_ms

T0 = utc_ms(2025, 10, 1, 12, 0)


def _step(
    ctx: RecordingContext, s: object, fast: float, slow: float, pf: float, ps: float
) -> list[Intent]:
    strategy = s
    assert hasattr(strategy, "on_bar")
    ctx.now_ms = T0
    row = ValuesRow({"ema_fast": fast, "ema_slow": slow}, {"ema_fast": pf, "ema_slow": ps})
    strategy.on_bar(ctx, make_bar("BTCUSDT", T0, 100.0), row)
    return list(ctx.take())


def test_cross_up_enters_long_with_all_equity() -> None:
    s, ctx = build("ema_cross"), RecordingContext("ema")
    (intent,) = _step(ctx, s, 101.0, 100.0, 99.0, 100.0)
    assert intent == EnterIntent(
        time_ms=T0,
        bot_id="ema",
        symbol="BTCUSDT",
        side=Side.BUY,
        size=EquityFraction(fraction=Decimal(1), leverage=Decimal(1)),
        reason="ema_cross_up",
        ref_price=Decimal("100.0"),
    )


def test_cross_down_exits_only_when_held() -> None:
    s, ctx = build("ema_cross"), RecordingContext()
    assert _step(ctx, s, 99.0, 100.0, 101.0, 100.0) == []  # flat: nothing to close
    ctx.book.open("BTCUSDT", Side.BUY, "100", T0 - 3_600_000)
    (intent,) = _step(ctx, s, 99.0, 100.0, 101.0, 100.0)
    assert isinstance(intent, ExitIntent) and intent.reason == "ema_cross_down"
    assert _step(ctx, s, 101.0, 100.0, 99.0, 100.0) == []  # held: no second entry


def test_touching_is_not_crossing() -> None:
    s, ctx = build("ema_cross"), RecordingContext()
    assert _step(ctx, s, 101.0, 100.0, 100.0, 100.0) == []  # equal before: backtesting.py says no
    assert _step(ctx, s, 100.0, 100.0, 99.0, 100.0) == []
    assert _step(ctx, s, 101.0, 100.0, float("nan"), float("nan")) == []


def test_real_candles_alternate_and_match_talib_crosses(
    bars_5m: Callable[[str], list[Bar]],
) -> None:
    bars = bars_5m("ETHUSDT")[:3000]
    intents = drive(build("ema_cross", symbols=["ETHUSDT"]), {"ETHUSDT": bars}, RecordingContext())
    closes = np.array([b.close for b in bars])
    fast, slow = talib.EMA(closes, 12), talib.EMA(closes, 26)
    ups = {
        bars[i].close_time_ms
        for i in range(1, len(bars))
        if fast[i - 1] < slow[i - 1] and fast[i] > slow[i]
    }
    downs = {
        bars[i].close_time_ms
        for i in range(1, len(bars))
        if fast[i - 1] > slow[i - 1] and fast[i] < slow[i]
    }
    kinds = [type(i).__name__ for i in intents]
    assert kinds[0] == "EnterIntent" and len(kinds) > 20
    assert all(a != b for a, b in itertools.pairwise(kinds))  # enter/exit alternate
    assert {i.time_ms for i in intents if isinstance(i, EnterIntent)} == ups
    assert {i.time_ms for i in intents if isinstance(i, ExitIntent)} <= downs
