"""Momentum: squeeze-breakout ranking into free slots, MA exit, risk limits, real 4h candles."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EnterIntent, ExitIntent, Intent, RiskFraction, TrailingSpec
from alphadesk.strategies import build
from alphadesk.strategies.momentum import Momentum
from alphadesk.testing.strategy_harness import (
    DAY_MS,
    HOUR_MS,
    RecordingContext,
    ValuesRow,
    drive,
    make_bar,
    utc_ms,
)

T0 = utc_ms(2025, 10, 8, 8, 0)  # a Wednesday
SIZE = RiskFraction(
    risk=Decimal("0.05"), stop_distance_pct=Decimal("0.10"), cap_fraction=Decimal("0.20")
)


def breakout(bbw_pct: float = 0.1, rvr: float = 3.0, sma: float = 95.0) -> dict[str, float]:
    """Values for a close of 100: above the upper band 99 and above the SMA."""
    return {"bb_upper": 99.0, "bbw_pct": bbw_pct, "rvr": rvr, "sma": sma}


def _strategy(**overrides: object) -> Momentum:
    strategy = build("momentum", **overrides)
    assert isinstance(strategy, Momentum)
    return strategy


def close_time(
    s: Momentum, ctx: RecordingContext, t: int, rows: dict[str, tuple[dict[str, float], float]]
) -> list[Intent]:
    ctx.now_ms = t
    for symbol in sorted(rows, reverse=True):  # delivery order must not matter
        values, close = rows[symbol]
        s.on_bar(ctx, make_bar(symbol, t, close, interval_min=240), ValuesRow(values))
    s.on_bars_closed(ctx, t)
    return list(ctx.take())


FOUR = {
    "AUSDT": (breakout(bbw_pct=0.30, rvr=2.1, sma=99.0), 100.0),  # weakest
    "BUSDT": (breakout(bbw_pct=0.0, rvr=6.0, sma=80.0), 100.0),  # strongest (1.0)
    "CUSDT": (breakout(bbw_pct=0.2, rvr=4.0, sma=95.0), 100.0),
    "DUSDT": (breakout(bbw_pct=0.1, rvr=3.0, sma=96.0), 100.0),
}


def test_each_condition_is_required() -> None:
    s = _strategy()
    assert s.is_breakout(100.0, ValuesRow(breakout()))
    assert not s.is_breakout(100.0, ValuesRow(breakout(bbw_pct=0.35)))
    assert not s.is_breakout(100.0, ValuesRow(breakout(rvr=2.0)))
    assert not s.is_breakout(98.0, ValuesRow(breakout()))  # under the upper band
    assert not s.is_breakout(100.0, ValuesRow({**breakout(), "sma": 100.0}))
    assert not s.is_breakout(100.0, ValuesRow({**breakout(), "bbw_pct": float("nan")}))
    assert s.strength(100.0, ValuesRow(breakout(bbw_pct=0.0, rvr=6.0, sma=80.0))) == 1.0


def test_four_candidates_three_slots_ranked_by_strength() -> None:
    s, ctx = _strategy(), RecordingContext("momentum_001")
    intents = close_time(s, ctx, T0, FOUR)
    assert [i.symbol for i in intents] == ["BUSDT", "CUSDT", "DUSDT"]
    first = intents[0]
    assert first == EnterIntent(
        time_ms=T0,
        bot_id="momentum_001",
        symbol="BUSDT",
        side=Side.BUY,
        size=SIZE,
        reason="squeeze_breakout",
        ref_price=Decimal("100.0"),
        trailing=TrailingSpec(distance=Decimal("10.00")),
    )


def test_held_symbols_are_skipped_and_fill_slots() -> None:
    s, ctx = _strategy(), RecordingContext()
    ctx.book.open("BUSDT", Side.BUY, "90", T0 - DAY_MS)
    ctx.book.open("XUSDT", Side.BUY, "90", T0 - DAY_MS)
    intents = close_time(s, ctx, T0, FOUR)
    assert [i.symbol for i in intents] == ["CUSDT"]


def test_ma_exit_and_freed_slot_the_same_close() -> None:
    s, ctx = _strategy(), RecordingContext()
    for sym in ("XUSDT", "YUSDT", "ZUSDT"):
        ctx.book.open(sym, Side.BUY, "90", T0 - DAY_MS)
    rows = dict(FOUR)
    rows["XUSDT"] = ({**breakout(), "sma": 101.0}, 100.0)  # close < SMA20
    rows["YUSDT"] = ({**breakout(), "sma": 100.0}, 100.0)  # close == SMA20: hold
    intents = close_time(s, ctx, T0, rows)
    assert intents[0] == ExitIntent(time_ms=T0, bot_id=ctx.bot_id, symbol="XUSDT", reason="ma_exit")
    assert [i.symbol for i in intents[1:]] == ["BUSDT"]


def test_daily_loss_blocks_entries_for_the_rest_of_the_day() -> None:
    s, ctx = _strategy(), RecordingContext()
    day = utc_ms(2025, 10, 8)
    ctx.book.equity = Decimal(10_000)
    close_time(s, ctx, day, {})
    ctx.book.equity = Decimal(9_700)  # -3 %
    assert close_time(s, ctx, day + 4 * HOUR_MS, FOUR) == []
    ctx.book.equity = Decimal(10_000)
    assert close_time(s, ctx, day + 8 * HOUR_MS, FOUR) == []
    assert len(close_time(s, ctx, day + DAY_MS, FOUR)) == 3


def test_weekly_loss_halves_size_until_the_week_changes() -> None:
    s, ctx = _strategy(), RecordingContext()
    monday = utc_ms(2025, 10, 6)
    for d, eq in enumerate(("10000", "9800", "9600", "9400", "9200")):
        ctx.book.equity = Decimal(eq)
        close_time(s, ctx, monday + d * DAY_MS, {})
    assert s.limits.size_factor == Decimal("0.5")  # -8 % on Friday 00:00
    intents = close_time(s, ctx, monday + 4 * DAY_MS + 4 * HOUR_MS, FOUR)
    assert intents and all(
        isinstance(i, EnterIntent) and i.size == SIZE.scaled(Decimal("0.5")) for i in intents
    )
    s2_intents = close_time(s, ctx, monday + 7 * DAY_MS, {"EUSDT": FOUR["BUSDT"]})
    assert [i.size for i in s2_intents if isinstance(i, EnterIntent)] == [SIZE]


def test_monthly_loss_halts_until_the_month_changes_and_max_drawdown_latches() -> None:
    s, ctx = _strategy(), RecordingContext()
    start = utc_ms(2025, 10, 1)
    # -15 % over the month in steps below the daily and weekly limits' effect on entries.
    for d, eq in enumerate(
        ("10000", "9800", "9600", "9400", "9200", "9000", "8800", "8600", "8500")
    ):
        ctx.book.equity = Decimal(eq)
        close_time(s, ctx, start + d * 2 * DAY_MS, {})
    assert s.limits.monthly_halted
    assert close_time(s, ctx, start + 20 * DAY_MS, FOUR) == []
    assert len(close_time(s, ctx, utc_ms(2025, 11, 1, 4), FOUR)) == 3
    s2, ctx2 = _strategy(), RecordingContext()
    ctx2.book.equity = Decimal(10_000)
    close_time(s2, ctx2, utc_ms(2025, 10, 30), {})
    for d, eq in enumerate(
        ("9900", "9700", "9500", "9300", "9100", "8900", "8700", "8500", "8300", "8100", "8000")
    ):
        ctx2.book.equity = Decimal(eq)
        close_time(s2, ctx2, utc_ms(2025, 11, 1) + d * 3 * DAY_MS, {})
    assert s2.limits.drawdown_halted and not s2.limits.monthly_halted
    ctx2.book.equity = Decimal(8_000)
    assert close_time(s2, ctx2, utc_ms(2026, 1, 5), FOUR) == []


def test_btc_regime_filter_is_off_by_default_and_gates_when_on() -> None:
    assert "regime_sma" not in _strategy().indicators()
    s, ctx = _strategy(use_btc_regime_filter=True), RecordingContext()
    weak_btc = ({**breakout(bbw_pct=0.9), "regime_sma": 120.0, "regime_adx": 30.0}, 100.0)
    rows = {k: ({**v[0], "regime_sma": 0.0, "regime_adx": 0.0}, v[1]) for k, v in FOUR.items()}
    assert close_time(s, ctx, T0, {**rows, "BTCUSDT": weak_btc}) == []
    strong_btc = ({**breakout(bbw_pct=0.9), "regime_sma": 90.0, "regime_adx": 30.0}, 100.0)
    assert len(close_time(s, ctx, T0 + 4 * HOUR_MS, {**rows, "BTCUSDT": strong_btc})) == 3


def test_real_4h_candles_entries_match_pandas_conditions(bars_4h: dict[str, list[Bar]]) -> None:
    s = _strategy(symbols=sorted(bars_4h))
    intents = drive(s, bars_4h, RecordingContext("momentum_001"))
    entries = [i for i in intents if isinstance(i, EnterIntent)]
    assert entries
    frames = {}
    for sym, bars in bars_4h.items():
        df = pd.DataFrame(
            [(b.close_time_ms, b.close, b.volume) for b in bars], columns=["t", "close", "volume"]
        ).set_index("t")
        mid = df["close"].rolling(20).mean()
        std = df["close"].rolling(20).std()  # pandas sample std, as the seed
        width = (4 * std) / mid
        df["pct"] = width.rolling(90).apply(lambda w: float(np.mean(w[:-1] < w[-1])), raw=True)
        df["upper"] = mid + 2 * std
        df["rvr"] = df["volume"] / df["volume"].rolling(20).mean()
        df["sma"] = mid
        frames[sym] = df
    open_count: dict[int, int] = {}
    for entry in entries:
        row = frames[entry.symbol].loc[entry.time_ms]
        assert row["pct"] < 0.35
        assert row["close"] > row["upper"] and row["close"] > row["sma"]
        assert row["rvr"] > 2.0
        open_count[entry.time_ms] = open_count.get(entry.time_ms, 0) + 1
    assert max(open_count.values()) <= 3
