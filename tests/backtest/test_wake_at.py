"""``ctx.wake_at(symbol, time_ms)``: a strategy asks to be called on the symbol's first bar closing
at or after a time, whatever its wake masks say.

The backtest keeps the times (a heap on its context) and calls the strategy on exactly those
bars; the contexts of drivers that deliver every bar (live, paper: the engine's context without
a heap) keep nothing; the test kit's context records them. ShortSeller arms its 24-hour exit with
it, which is what lets its holding mask leave out the bars in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.backtest.data import align
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.backtest.venue import BacktestVenue
from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import ExitIntent
from alphadesk.engine.runner import Engine
from alphadesk.engine.trading_state import KillSwitchLimits
from alphadesk.strategies import build
from alphadesk.strategies.api import Columns, Row, Strategy, StrategyContext, WakeMask
from alphadesk.strategies.shortseller import ShortSeller
from alphadesk.strategies.specs import IndicatorSpec
from alphadesk.testing.strategy_harness import (
    HOUR_MS,
    MINUTE_MS,
    RecordingContext,
    ValuesRow,
    make_bar,
    utc_ms,
)

from .walks import MIN5, T0, rules, walk

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class AlarmParams:
    symbols: tuple[str, ...] = ("AAAUSDT", "BBBUSDT")
    alarms: tuple[tuple[str, int], ...] = ()


class Alarm(Strategy[AlarmParams]):
    """Wakes on no bar but the first of each symbol, where it sets ``alarms``; records every
    call as (symbol, close time)."""

    name = "alarm_test"
    timeframe_min = 5
    params_type = AlarmParams

    def __init__(self, params: AlarmParams | None = None) -> None:
        super().__init__(params)
        self.seen: list[tuple[str, int]] = []

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {}

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask:
        first = np.zeros(len(columns["close"]), dtype=bool)
        first[0] = True
        return first, first

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        if not self.seen:
            for symbol, time_ms in self.params.alarms:
                ctx.wake_at(symbol, time_ms)
        self.seen.append((bar.symbol, ctx.now_ms))


def close_of(n: int) -> int:
    """The close time of the n-th five-minute bar after T0."""
    return T0 + (n + 1) * MIN5


def test_the_backtest_calls_the_first_bar_closing_at_or_after_each_time() -> None:
    alarms = (
        ("AAAUSDT", close_of(10) - 1),  # mid-bar: that bar
        ("AAAUSDT", close_of(20)),  # exactly a close: that bar
        ("BBBUSDT", close_of(35)),  # inside BBB's hole (bars 30..39): its first bar after it
        ("AAAUSDT", close_of(20)),  # twice the same: one call
        ("BBBUSDT", close_of(500)),  # after the data: never
    )
    data = align(
        [
            walk("AAAUSDT", 100, seed=1),
            walk("BBBUSDT", 100, seed=2, gap=range(30, 40)),
        ]
    )
    strategy = Alarm(AlarmParams(alarms=alarms))
    settings = BacktestSettings(instruments={s: rules(s) for s in strategy.symbols})
    out = run(strategy, data, settings)
    assert strategy.seen == [
        ("AAAUSDT", close_of(0)),
        ("BBBUSDT", close_of(0)),
        ("AAAUSDT", close_of(10)),
        ("AAAUSDT", close_of(20)),
        ("BBBUSDT", close_of(40)),
    ]
    # the timeline's steps 0, 10, 20, 35 (where BBB's time comes, without a bar) and 40: no other
    assert out.steps_run == 5


@pytest.mark.parametrize(
    "kill",
    [KillSwitchLimits(), KillSwitchLimits(halt_at=Decimal("0.5"))],
    ids=["no kill switch", "kill switch on (every step is stepped)"],
)
def test_a_time_is_kept_while_masks_decide(kill: KillSwitchLimits) -> None:
    """A kill switch makes the loop step every step to watch equity, but the masks still leave
    bars out: the times asked for must still be called (ShortSeller's 24 h exit relies on it).
    An alarm for a symbol outside the run is ignored, as live and paper ignore it."""
    alarms = (("AAAUSDT", close_of(10)), ("ZZZUSDT", close_of(5)))
    strategy = Alarm(AlarmParams(alarms=alarms))
    data = align([walk("AAAUSDT", 100, seed=1), walk("BBBUSDT", 100, seed=2)])
    settings = BacktestSettings(
        instruments={s: rules(s) for s in strategy.symbols}, kill_limits=kill
    )
    run(strategy, data, settings)
    assert strategy.seen == [
        ("AAAUSDT", close_of(0)),
        ("BBBUSDT", close_of(0)),
        ("AAAUSDT", close_of(10)),
    ]


def test_a_run_calling_every_bar_keeps_no_times() -> None:
    strategy = Alarm(AlarmParams(alarms=(("AAAUSDT", close_of(10)),)))
    data = align([walk("AAAUSDT", 30, seed=1), walk("BBBUSDT", 30, seed=2)])
    settings = BacktestSettings(
        instruments={s: rules(s) for s in strategy.symbols}, skip_quiet_bars=False
    )
    out = run(strategy, data, settings)
    assert out.strategy_calls == 60
    assert strategy.seen.count(("AAAUSDT", close_of(10))) == 1  # the alarm adds no second call


def test_the_engine_context_keeps_times_only_when_given_a_heap() -> None:
    sim = MatchingEngine("paper", [rules("AAAUSDT")])
    venue = BacktestVenue(sim, "bot")
    engine = Engine(
        Alarm(),
        bot_id="bot",
        instruments={"AAAUSDT": rules("AAAUSDT")},
        gateway=venue,
        initial_cash=Decimal(1000),
    )
    engine.ctx.wake_at("AAAUSDT", 5)  # a live or paper bot: every bar comes anyway
    assert engine.ctx.timers is None
    engine.ctx.timers = []
    for time_ms in (30, 10, 20):
        engine.ctx.wake_at("AAAUSDT", time_ms)
    assert sorted(engine.ctx.timers) == [(10, "AAAUSDT"), (20, "AAAUSDT"), (30, "AAAUSDT")]
    assert engine.ctx.timers[0] == (10, "AAAUSDT")  # a heap: the earliest first


# -- ShortSeller's 24-hour exit ------------------------------------------------------------------

SYM = "BTCUSDT"
E0 = utc_ms(2025, 10, 1, 10, 0)


def _entry_fill(ctx: RecordingContext, t: int) -> Fill:
    ctx.book.open(SYM, Side.SELL, "99", t)
    ctx.now_ms = t
    return Fill(
        venue="bybit",
        account="a",
        exec_id=f"e{t}",
        bot_id=ctx.bot_id,
        symbol=SYM,
        side=Side.SELL,
        price=Decimal(99),
        qty=Decimal("0.1"),
        fee=Decimal(0),
        exec_time=datetime.fromtimestamp(t / 1000, tz=UTC),
    )


def _bar(s: ShortSeller, ctx: RecordingContext, t: int) -> list[object]:
    """A bar closing at ``t`` inside the active regime, without a cross."""
    ctx.now_ms = t
    row = ValuesRow(
        {"close": 98.0, "ema_fast": 100.0, "ema_slow": 101.0},
        {"close": 98.0, "ema_fast": 100.0, "ema_slow": 101.0},
    )
    s.on_bar(ctx, make_bar(SYM, t, 98.0), row)
    return list(ctx.take())


def test_shortseller_asks_for_the_bar_its_time_exit_fires_on_and_again_after_it() -> None:
    s, ctx = build("shortseller"), RecordingContext()
    assert isinstance(s, ShortSeller)
    s.on_fill(ctx, _entry_fill(ctx, E0 + 300))  # 300 ms after the E0 close
    due = E0 + 24 * HOUR_MS + 1  # the entry's bar start + 24 h, plus 1 ms: "more than 24 h"
    assert ctx.wakes == [(SYM, due)]
    assert _bar(s, ctx, E0 + 24 * HOUR_MS) == []  # the bar before: held
    first_due = E0 + 24 * HOUR_MS + 5 * MINUTE_MS  # the first close at or after `due`
    (intent,) = _bar(s, ctx, first_due)
    assert isinstance(intent, ExitIntent) and intent.reason == "time_exit"
    assert ctx.wakes[-1] == (SYM, first_due + 1)  # should the exit be refused: the next bar


def test_shortseller_arms_the_time_exit_of_a_position_held_at_start() -> None:
    s, ctx = build("shortseller"), RecordingContext()
    ctx.book.open(SYM, Side.SELL, "99", E0 - 20 * MINUTE_MS)
    s.on_start(ctx)
    assert ctx.wakes == [(SYM, E0 - 20 * MINUTE_MS + 24 * HOUR_MS + 1)]


def test_shortseller_holding_mask_is_the_crosses_and_the_inactive_regime() -> None:
    s = build("shortseller")
    close = np.array([99.0, 99.5, 100.5, 99.0, 98.0, 98.0])
    fast = np.array([NAN, 100.0, 100.0, 100.0, 100.0, 100.0])
    slow = np.array([NAN, 101.0, 101.0, 101.0, 101.0, 97.0])
    got = s.wake_bars(SYM, {"close": close, "ema_fast": fast, "ema_slow": slow})
    assert isinstance(got, tuple)
    flat, holding = got
    assert flat is not None and holding is not None
    # bar 0: NaN EMAs (not active); 1, 4: active, no cross; 2: above EMA240 (not active);
    # 3: the cross below EMA240 (active too); 5: above EMA600 (not active)
    assert flat.tolist() == [False, False, False, True, False, False]
    assert holding.tolist() == [True, False, True, True, False, True]
