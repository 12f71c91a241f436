"""ShortSeller rules on hand-built rows, then the real features path on real BTC candles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import talib

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import (
    EnterIntent,
    EquityFraction,
    ExitIntent,
    Intent,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.strategies import build
from alphadesk.strategies.shortseller import ShortSeller
from alphadesk.testing.strategy_harness import (
    HOUR_MS,
    MINUTE_MS,
    RecordingContext,
    ValuesRow,
    drive,
    make_bar,
    utc_ms,
)

T0 = utc_ms(2025, 10, 1, 10, 0)
SYM = "BTCUSDT"


def _strategy() -> ShortSeller:
    strategy = build("shortseller")
    assert isinstance(strategy, ShortSeller)
    return strategy


def step(
    s: ShortSeller,
    ctx: RecordingContext,
    t: int,
    close: float,
    *,
    prev_close: float,
    ema240: float = 100.0,
    ema600: float = 101.0,
    symbol: str = SYM,
) -> list[Intent]:
    """One closed bar at ``t``; EMAs unchanged from the previous bar unless given."""
    ctx.now_ms = t
    row = ValuesRow(
        {"close": close, "ema_fast": ema240, "ema_slow": ema600},
        {"close": prev_close, "ema_fast": ema240, "ema_slow": ema600},
    )
    s.on_bar(ctx, make_bar(symbol, t, close), row)
    s.on_bars_closed(ctx, t)
    return list(ctx.take())


def cross_active(s: ShortSeller, ctx: RecordingContext, t: int) -> list[Intent]:
    """Close crosses below EMA240 (100) and stays below EMA600 (101): regime ACTIVE."""
    return step(s, ctx, t, 99.0, prev_close=100.5)


def cross_inactive(s: ShortSeller, ctx: RecordingContext, t: int) -> list[Intent]:
    """Close crosses below EMA240 (100) but is above EMA600 (98): a cross, regime INACTIVE."""
    return step(s, ctx, t, 99.0, prev_close=100.5, ema600=98.0)


def fill_entry(s: ShortSeller, ctx: RecordingContext, t: int, price: str = "99") -> None:
    """What the engine does after an entry: portfolio applies the fill, then on_fill."""
    ctx.book.open(SYM, Side.SELL, price, t)
    ctx.now_ms = t
    s.on_fill(
        ctx,
        Fill(
            venue="bybit",
            account="a",
            exec_id=f"e{t}",
            bot_id=ctx.bot_id,
            symbol=SYM,
            side=Side.SELL,
            price=Decimal(price),
            qty=Decimal("0.1"),
            fee=Decimal(0),
            exec_time=datetime.fromtimestamp(t / 1000, tz=UTC),
        ),
    )


def test_cross_below_ema240_in_active_regime_enters_short_with_btc_protection() -> None:
    s, ctx = _strategy(), RecordingContext("shortseller_001")
    intents = cross_active(s, ctx, T0)
    assert intents == [
        EnterIntent(
            time_ms=T0,
            bot_id="shortseller_001",
            symbol=SYM,
            side=Side.SELL,
            size=EquityFraction(fraction=Decimal("0.07"), leverage=Decimal(10)),
            reason="cross_below_ema240",
            ref_price=Decimal("99.0"),
            stop_loss=Decimal("99.0") * Decimal("1.01"),
            take_profits=(TakeProfitLevel(price=Decimal("99.0") * Decimal("0.97")),),
            trailing=TrailingSpec(
                distance=Decimal("99.0") * Decimal("0.01"),
                activation_price=Decimal("99.0") * Decimal("0.98"),
            ),
        )
    ]


def test_protection_is_per_asset() -> None:
    s, ctx = _strategy(), RecordingContext()
    (intent,) = step(
        s, ctx, T0, 100.0, prev_close=120.0, ema240=110.0, ema600=105.0, symbol="SOLUSDT"
    )
    assert isinstance(intent, EnterIntent)
    assert intent.reason == "cross_below_ema240_ema600"
    assert intent.stop_loss == Decimal("101.5000")
    assert intent.take_profits[0].price == Decimal("94.0000")
    assert intent.trailing == TrailingSpec(
        distance=Decimal("2.00"), activation_price=Decimal("97.000")
    )
    assert s.cross_count("SOLUSDT") == 2


def test_no_cross_no_entry_and_unknown_symbols_ignored() -> None:
    s, ctx = _strategy(), RecordingContext()
    assert step(s, ctx, T0, 99.0, prev_close=99.5) == []  # already below: no cross
    assert step(s, ctx, T0, 99.0, prev_close=100.5, symbol="XRPUSDT") == []
    assert step(s, ctx, T0, 99.0, prev_close=float("nan")) == []  # warm-up


def test_cooldown_blocks_entries_for_an_hour_after_the_entry_fill() -> None:
    s, ctx = _strategy(), RecordingContext()
    assert len(cross_active(s, ctx, T0)) == 1
    fill_entry(s, ctx, T0 + 250)  # live fill a moment after the close
    ctx.book.close(SYM)  # the exchange's stop closed it
    assert cross_active(s, ctx, T0 + 30 * MINUTE_MS) == []
    assert cross_active(s, ctx, T0 + 55 * MINUTE_MS) == []
    assert s.in_cooldown(SYM, T0 + 55 * MINUTE_MS)
    (intent,) = cross_active(s, ctx, T0 + HOUR_MS)
    assert isinstance(intent, EnterIntent)


def test_entry_needs_flat_position() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open(SYM, Side.SELL, "99", T0 - 2 * HOUR_MS)
    assert cross_active(s, ctx, T0) == []


def test_daily_cross_limit_counts_every_cross_and_resets_at_midnight() -> None:
    s, ctx = _strategy(), RecordingContext()
    day = utc_ms(2025, 10, 1)
    for i in range(11):
        assert cross_inactive(s, ctx, day + (i + 1) * 10 * MINUTE_MS) == []
    assert s.cross_count(SYM) == 11
    # The 12th cross of the day, regime active: the seed counts it first, so 12 < 12 fails.
    assert cross_active(s, ctx, day + 3 * HOUR_MS) == []
    assert cross_active(s, ctx, day + 4 * HOUR_MS) == []  # the 13th
    assert s.cross_count(SYM) == 13
    # The 23:55 bar closes at 00:00 and still belongs to the old day.
    assert cross_active(s, ctx, day + 24 * HOUR_MS) == []
    (intent,) = cross_active(s, ctx, day + 24 * HOUR_MS + 5 * MINUTE_MS)
    assert isinstance(intent, EnterIntent)
    assert s.cross_count(SYM) == 1


def test_eleventh_cross_still_enters() -> None:
    s, ctx = _strategy(), RecordingContext()
    day = utc_ms(2025, 10, 1)
    for i in range(10):
        cross_inactive(s, ctx, day + (i + 1) * 10 * MINUTE_MS)
    assert len(cross_active(s, ctx, day + 3 * HOUR_MS)) == 1


def test_regime_inactive_exits_only_outside_cooldown() -> None:
    s, ctx = _strategy(), RecordingContext()
    cross_active(s, ctx, T0)
    fill_entry(s, ctx, T0)
    # Close above EMA240: INACTIVE, but inside the cooldown: hold.
    assert step(s, ctx, T0 + 30 * MINUTE_MS, 100.5, prev_close=99.0) == []
    (intent,) = step(s, ctx, T0 + HOUR_MS, 100.5, prev_close=99.0)
    assert intent == ExitIntent(
        time_ms=T0 + HOUR_MS, bot_id=ctx.bot_id, symbol=SYM, reason="regime_inactive"
    )


def test_no_phantom_exit_when_the_exchange_already_closed_it() -> None:
    s, ctx = _strategy(), RecordingContext()
    cross_active(s, ctx, T0)
    fill_entry(s, ctx, T0)
    ctx.book.close(SYM)
    assert step(s, ctx, T0 + 2 * HOUR_MS, 100.5, prev_close=99.0) == []
    assert step(s, ctx, T0 + 30 * HOUR_MS, 99.0, prev_close=99.0) == []


def test_time_exit_after_more_than_24_hours() -> None:
    s, ctx = _strategy(), RecordingContext()
    fill_entry(s, ctx, T0 + 300)  # entry fill 300 ms after the T0 close
    assert step(s, ctx, T0 + 24 * HOUR_MS, 98.0, prev_close=98.0) == []  # exactly 24 h: hold
    (intent,) = step(s, ctx, T0 + 24 * HOUR_MS + 5 * MINUTE_MS, 98.0, prev_close=98.0)
    assert isinstance(intent, ExitIntent) and intent.reason == "time_exit"


def test_on_start_rebuilds_cooldown_from_the_portfolio() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open(SYM, Side.SELL, "99", T0 - 20 * MINUTE_MS)
    s.on_start(ctx)
    ctx.book.close(SYM)
    assert s.in_cooldown(SYM, T0)
    assert cross_active(s, ctx, T0) == []
    assert not s.in_cooldown(SYM, T0 + 40 * MINUTE_MS)


def test_on_stop_does_not_flatten() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open(SYM, Side.SELL, "99", T0)
    s.on_stop(ctx)
    assert ctx.intents == []


def test_real_btc_candles_enter_only_below_both_talib_emas(
    bars_5m: Callable[[str], list[Bar]],
) -> None:
    bars = bars_5m(SYM)
    ctx = RecordingContext("shortseller_001")
    intents = drive(_strategy(), {SYM: bars}, ctx)
    entries = [i for i in intents if isinstance(i, EnterIntent)]
    assert len(entries) >= 1
    closes = np.array([b.close for b in bars])
    ema240, ema600 = talib.EMA(closes, 240), talib.EMA(closes, 600)
    index = {b.close_time_ms: i for i, b in enumerate(bars)}
    for entry in entries:
        i = index[entry.time_ms]
        assert entry.side is Side.SELL
        assert closes[i] < ema240[i] and closes[i] < ema600[i]
        crossed_240 = closes[i - 1] > ema240[i - 1] and closes[i] < ema240[i]
        crossed_600 = closes[i - 1] > ema600[i - 1] and closes[i] < ema600[i]
        assert crossed_240 or crossed_600
        assert entry.ref_price == Decimal(repr(float(closes[i])))
    # Deterministic: the same bars give the same intents.
    assert drive(_strategy(), {SYM: bars}, RecordingContext("shortseller_001")) == intents
