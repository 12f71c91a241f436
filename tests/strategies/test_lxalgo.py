"""LXAlgo rules on hand-built rows, the drawdown ladder, and the real features path."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import (
    EnterIntent,
    ExitIntent,
    Intent,
    NotionalSize,
    SetStopIntent,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.strategies import build
from alphadesk.strategies.lxalgo import LxAlgo
from alphadesk.testing.strategy_harness import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    RecordingContext,
    ValuesRow,
    drive,
    make_bar,
    utc_ms,
)

T0 = utc_ms(2025, 10, 1, 1, 0)  # a Wednesday
QUIET = {
    "rsi": 50.0,
    "volatility": 0.001,
    "spread": 0.05,
    "price_change": 0.0,
    "volume_change": 0.0,
    "pump": 0.0,
}
# Pump 9 %, RSI 65, spread 1 %: score 2 (RSI, spread) -> rule 8.
RULE8 = {**QUIET, "pump": 0.09, "rsi": 65.0, "spread": 0.01}
# Pump 9 %, RSI 58, volatility 0.009, spread 5 %: score 1 (volatility) -> rule 6.
RULE6 = {**QUIET, "pump": 0.09, "rsi": 58.0, "volatility": 0.009}


def _strategy(**overrides: object) -> LxAlgo:
    strategy = build("lxalgo", **overrides)
    assert isinstance(strategy, LxAlgo)
    return strategy


def close_time(
    s: LxAlgo, ctx: RecordingContext, t: int, rows: dict[str, tuple[dict[str, float], float]]
) -> list[Intent]:
    """Deliver one bar per symbol closing at ``t`` (values, close), then on_bars_closed."""
    ctx.now_ms = t
    for symbol, (values, close) in rows.items():
        s.on_bar(ctx, make_bar(symbol, t, close), ValuesRow(values))
    s.on_bars_closed(ctx, t)
    return list(ctx.take())


def test_rules_and_pump_gate() -> None:
    s = _strategy()
    assert s.rule(ValuesRow(RULE8)) == "rule_8"
    assert s.rule(ValuesRow(RULE6)) == "rule_6"
    assert s.rule(ValuesRow({**RULE8, "pump": 0.079})) is None  # below the 8 % gate
    assert s.rule(ValuesRow({**RULE8, "pump": 0.08})) == "rule_8"  # the gate is >=
    # Score 2 but spread >= 4 %: not rule 8; RSI 65 > 55 with volatility 0.009 -> rule 6.
    wide = {**RULE8, "spread": 0.045, "volatility": 0.009}
    assert s.rule(ValuesRow(wide)) == "rule_6"
    assert s.rule(ValuesRow({**RULE8, "spread": 0.045})) is None
    assert s.rule(ValuesRow({**RULE8, "rsi": float("nan"), "spread": float("nan")})) is None


def test_entry_is_200_usdt_with_position_protection() -> None:
    s, ctx = _strategy(), RecordingContext("lxalgo_001")
    (intent,) = close_time(s, ctx, T0, {"ABCUSDT": (RULE8, 2.0)})
    assert intent == EnterIntent(
        time_ms=T0,
        bot_id="lxalgo_001",
        symbol="ABCUSDT",
        side=Side.BUY,
        size=NotionalSize(usdt=Decimal(200)),
        reason="rule_8",
        ref_price=Decimal("2.0"),
        stop_loss=Decimal("1.840"),
        take_profits=(TakeProfitLevel(price=Decimal("2.600")),),
        trailing=TrailingSpec(distance=Decimal("0.200"), activation_price=Decimal("2.400")),
    )


def test_one_entry_per_symbol_per_fixed_four_hour_bucket() -> None:
    s, ctx = _strategy(), RecordingContext()
    t = utc_ms(2025, 10, 1, 0, 30)
    assert len(close_time(s, ctx, t, {"ABCUSDT": (RULE8, 2.0)})) == 1
    ctx.book.open("ABCUSDT", Side.BUY, "2", t)
    ctx.book.close("ABCUSDT")  # stopped out
    assert close_time(s, ctx, utc_ms(2025, 10, 1, 3, 55), {"ABCUSDT": (RULE8, 2.0)}) == []
    # The bar closing at 04:00 is decided at 04:00: the next bucket (fixed, not rolling 4 h).
    assert len(close_time(s, ctx, utc_ms(2025, 10, 1, 4, 0), {"ABCUSDT": (RULE6, 2.0)})) == 1


def test_no_adding_to_a_held_symbol() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open("ABCUSDT", Side.BUY, "2", T0 - 5 * HOUR_MS)
    assert close_time(s, ctx, T0, {"ABCUSDT": (RULE8, 2.05)}) == []


def test_max_twenty_active_trades_in_symbol_order() -> None:
    s, ctx = _strategy(), RecordingContext()
    for i in range(19):
        ctx.book.open(f"H{i:02d}USDT", Side.BUY, "1", T0 - HOUR_MS)
    rows = {sym: (RULE8, 1.0) for sym in ("ZZZUSDT", "BBBUSDT", "AAAUSDT")}
    intents = close_time(s, ctx, T0, rows)
    assert [i.symbol for i in intents if isinstance(i, EnterIntent)] == ["AAAUSDT"]


def test_breakeven_moves_the_stop_once() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open("ABCUSDT", Side.BUY, "100", T0)
    assert close_time(s, ctx, T0 + HOUR_MS, {"ABCUSDT": (QUIET, 107.9)}) == []
    (intent,) = close_time(s, ctx, T0 + 2 * HOUR_MS, {"ABCUSDT": (QUIET, 108.0)})
    assert intent == SetStopIntent(
        time_ms=T0 + 2 * HOUR_MS,
        bot_id=ctx.bot_id,
        symbol="ABCUSDT",
        stop_loss=Decimal(100),
        reason="breakeven",
    )
    assert close_time(s, ctx, T0 + 3 * HOUR_MS, {"ABCUSDT": (QUIET, 112.0)}) == []


def test_eight_hour_rule_closes_losers_only() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open("ABCUSDT", Side.BUY, "100", T0 + 200)  # fill 200 ms after the T0 close
    assert close_time(s, ctx, T0 + 8 * HOUR_MS - 5 * MINUTE_MS, {"ABCUSDT": (QUIET, 99.0)}) == []
    assert close_time(s, ctx, T0 + 8 * HOUR_MS, {"ABCUSDT": (QUIET, 101.0)}) == []
    (intent,) = close_time(s, ctx, T0 + 8 * HOUR_MS + 5 * MINUTE_MS, {"ABCUSDT": (QUIET, 99.0)})
    assert isinstance(intent, ExitIntent) and intent.reason == "8h_negative_pnl"


def test_72_hour_expiry_closes_the_position() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open("ABCUSDT", Side.BUY, "100", T0)
    assert close_time(s, ctx, T0 + 72 * HOUR_MS - 5 * MINUTE_MS, {"ABCUSDT": (QUIET, 105.0)}) == []
    (intent,) = close_time(s, ctx, T0 + 72 * HOUR_MS, {"ABCUSDT": (QUIET, 105.0)})
    assert isinstance(intent, ExitIntent) and intent.reason == "expiry_72h"


def test_daily_drawdown_closes_all_and_pauses_until_the_next_utc_day() -> None:
    s, ctx = _strategy(), RecordingContext()
    day = utc_ms(2025, 10, 1)
    ctx.book.open("AAAUSDT", Side.BUY, "1", day - HOUR_MS)
    ctx.book.open("BBBUSDT", Side.BUY, "1", day - HOUR_MS)
    ctx.book.equity = Decimal(10_000)
    assert close_time(s, ctx, day, {}) == []  # 00:00 baseline
    ctx.book.equity = Decimal(9_801)
    assert close_time(s, ctx, day + HOUR_MS, {}) == []  # 1.99 %
    ctx.book.equity = Decimal(9_800)
    intents = close_time(s, ctx, day + 2 * HOUR_MS, {"CCCUSDT": (RULE8, 1.0)})
    assert [(type(i).__name__, i.symbol, i.reason) for i in intents] == [
        ("ExitIntent", "AAAUSDT", "drawdown_protection"),
        ("ExitIntent", "BBBUSDT", "drawdown_protection"),
    ]
    ctx.book.close("AAAUSDT")
    ctx.book.close("BBBUSDT")
    ctx.book.equity = Decimal(10_500)  # recovery does not lift the pause
    assert close_time(s, ctx, day + 5 * HOUR_MS, {"CCCUSDT": (RULE8, 1.0)}) == []
    (intent,) = close_time(s, ctx, day + DAY_MS, {"CCCUSDT": (RULE8, 1.0)})
    assert isinstance(intent, EnterIntent)


def test_weekly_ladder_halves_size_restores_and_halts() -> None:
    s, ctx = _strategy(), RecordingContext()
    monday = utc_ms(2025, 9, 29)
    equity = [
        (monday, "10000"),
        (monday + 12 * HOUR_MS, "9850"),
        (monday + DAY_MS, "9850"),
        (monday + DAY_MS + 12 * HOUR_MS, "9700"),
        (monday + 2 * DAY_MS, "9700"),
        (monday + 2 * DAY_MS + HOUR_MS, "9590"),  # week -4.1 %
    ]
    for t, eq in equity:
        ctx.book.equity = Decimal(eq)
        close_time(s, ctx, t, {})
    assert s.ladder.size_factor == Decimal("0.5")
    (intent,) = close_time(s, ctx, monday + 2 * DAY_MS + 2 * HOUR_MS, {"AAAUSDT": (RULE8, 1.0)})
    assert isinstance(intent, EnterIntent) and intent.size == NotionalSize(usdt=Decimal(100))
    ctx.book.equity = Decimal(9_790)  # below start - 0.5 x peak loss (9795): still reduced
    close_time(s, ctx, monday + 2 * DAY_MS + 3 * HOUR_MS, {})
    assert s.ladder.size_factor == Decimal("0.5")
    ctx.book.equity = Decimal(9_795)
    close_time(s, ctx, monday + 2 * DAY_MS + 4 * HOUR_MS, {})
    assert s.ladder.size_factor == Decimal(1)
    # Thursday: day start 9795; -6 % on the week (9400 is -4.0 % on the day, too).
    ctx.book.equity = Decimal(9_795)
    close_time(s, ctx, monday + 3 * DAY_MS, {})
    ctx.book.open("AAAUSDT", Side.BUY, "1", monday + 2 * DAY_MS + 2 * HOUR_MS)
    ctx.book.equity = Decimal(9_400)
    intents = close_time(s, ctx, monday + 3 * DAY_MS + HOUR_MS, {})
    assert [i.reason for i in intents] == ["drawdown_protection"]
    assert s.ladder.weekly_halted
    ctx.book.close("AAAUSDT")
    ctx.book.equity = Decimal(9_900)
    assert close_time(s, ctx, monday + 5 * DAY_MS, {"BBBUSDT": (RULE8, 1.0)}) == []  # Saturday
    next_monday = monday + 7 * DAY_MS
    (intent,) = close_time(s, ctx, next_monday, {"BBBUSDT": (RULE8, 1.0)})
    assert isinstance(intent, EnterIntent) and intent.size == NotionalSize(usdt=Decimal(200))


def test_universe_rule_keeps_usdt_symbols_above_turnover() -> None:
    s = _strategy()
    turnover = {
        "AUSDT": Decimal(20_000_000),
        "BUSDT": Decimal(9_000_000),
        "CUSDC": Decimal(50_000_000),
        "DUSDT": Decimal(30_000_000),
    }
    assert s.select_universe(turnover) == ("DUSDT", "AUSDT")


def test_real_candles_through_features_match_pandas_conditions(
    bars_5m: Callable[[str], list[Bar]],
) -> None:
    """Every entry on real SOL candles satisfies the seed's conditions computed with pandas."""
    bars = bars_5m("SOLUSDT")
    # A lower pump gate so that two months of SOL give entries; the rest is the seed's.
    s = _strategy(pump_threshold_pct=3.0)
    intents = drive(s, {"SOLUSDT": bars}, RecordingContext("lxalgo_001"))
    entries = [i for i in intents if isinstance(i, EnterIntent)]
    assert entries
    df = pd.DataFrame(
        [(b.open, b.high, b.low, b.close, b.volume) for b in bars],
        columns=["open", "high", "low", "close", "volume"],
    )
    vol = df["close"].pct_change().rolling(144).std()
    pump = (df["close"] - df["open"].shift(12)) / df["open"].shift(12) * 100
    spread = (df["high"] - df["low"]) / df["close"] * 100
    index = {b.close_time_ms: i for i, b in enumerate(bars)}
    for entry in entries:
        i = index[entry.time_ms]
        assert pump[i] >= 3.0
        assert entry.reason in ("rule_8", "rule_6")
        if entry.reason == "rule_6":
            assert vol[i] > 0.008
        else:
            assert spread[i] < 4
    # Entries of one symbol are at least a bucket apart.
    times = [e.time_ms for e in entries]
    assert all(b // (4 * HOUR_MS) > a // (4 * HOUR_MS) for a, b in itertools.pairwise(times))
    assert np.isfinite(vol.iloc[-1])
