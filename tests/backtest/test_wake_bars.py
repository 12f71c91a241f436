"""The wake masks are a pure optimisation: every strategy's golden backtest gives byte-identical
JSON whether the loop visits every bar (``skip_quiet_bars=False``: no masks, a call per bar) or
only the bars the strategy declares (``wake_bars``), and the masked run really skips bars.

Then the jumps over quiet stretches while positions are held and protected: a synthetic strategy
that uses every rule a jump could step over (take-profit, stop-loss and trailing stop resting on
the venue, funding, exits on holding-mask bars and at ``wake_at`` times, a symbol with a late
start and a hole) gives the same fills and equity with and without them; and a symbol's holding
mask wakes the loop only while that symbol is held."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.backtest.data import MarketData, align, load
from alphadesk.backtest.result import summarize, to_json
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import EquityFraction, TakeProfitLevel, TrailingSpec
from alphadesk.engine.trading_state import KillSwitchLimits
from alphadesk.strategies import build
from alphadesk.strategies.api import (
    Columns,
    Row,
    Strategy,
    StrategyContext,
    WakeMask,
    entry_time,
)
from alphadesk.strategies.specs import IndicatorSpec

from .walks import HOUR, rules, walk

FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
FOUR = [
    f"{s}USDT_4h_bybit-perp-20250924-20260721"
    for s in ("AAVE", "ADA", "APE", "AVAX", "BNB", "BTC", "ETH", "SOL")
]
CASES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "shortseller": (FIVE, {}),
    "lxalgo": (FIVE, {}),
    "momentum": (FOUR, {}),
    "ema_cross": (FIVE[:1], {"fast": 20, "slow": 50}),
    "ema_cross_1m": (
        ["BTCUSDT_1m_btc-perp-2022-01"],
        {"fast": 12, "slow": 26, "timeframe_min": 1, "equity_fraction": Decimal("0.5")},
    ),
}


def _run(case: str, paths: list[Path], skip: bool) -> tuple[str, RunOutput]:
    _, params = CASES[case]
    name = "ema_cross" if case.startswith("ema_cross") else case
    out = run(build(name, **params), load(paths), BacktestSettings(skip_quiet_bars=skip))
    return to_json(summarize(out)), out


@pytest.mark.parametrize("case", sorted(CASES))
def test_wake_masks_change_nothing(case: str, market_csv: Callable[[str], Path]) -> None:
    paths = [market_csv(f) for f in CASES[case][0]]
    every_json, every = _run(case, paths, skip=False)
    woken_json, woken = _run(case, paths, skip=True)
    assert every.fills, "the reference run must trade for the comparison to mean anything"
    assert every.strategy_calls == every.data.bar_count  # the reference calls on every bar
    assert woken.strategy_calls < every.strategy_calls / 2  # the masks really skip bars
    assert woken_json == every_json


def test_shortsellers_time_exits_survive_the_masks_with_a_kill_switch(
    market_csv: Callable[[str], Path],
) -> None:
    """ShortSeller's holding mask leaves out the bar of its time exit and asks for it with
    ``wake_at``; with a kill switch on the loop steps every step (to watch equity) while the
    masks still decide: the exits must come on the same bars as in a run calling every bar."""
    paths = [market_csv(f) for f in FIVE]
    kill = KillSwitchLimits(halt_at=Decimal("0.99"))  # watched, never reached
    outs = [
        run(
            build("shortseller", max_hold_hours=1),
            load(paths),
            BacktestSettings(skip_quiet_bars=skip, kill_limits=kill),
        )
        for skip in (False, True)
    ]
    every, woken = outs
    assert Counter(f.close_reason for f in every.fills)["time_exit"] > 100
    assert woken.strategy_calls < every.strategy_calls / 2
    assert woken.fills == every.fills
    assert woken.final_equity == every.final_equity


# -- jumps over quiet stretches with positions, protection, funding and wake_at ------------------

ENTER, EXIT, SHORT = 1, 2, 4
"""Flags in the synthetic candles' volume (see walks.py): enter, exit, enter short."""


@dataclass(frozen=True, slots=True)
class FlagParams:
    symbols: tuple[str, ...] = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
    hold_ms: int = 2 * HOUR
    quiet_symbol_holding: bool = False
    """BBB's holding mask: every bar (True) or none (False). BBB never enters (see _data)."""


class FlagTrader(Strategy[FlagParams]):
    """Enters on ENTER bars (short with SHORT) with a stop-loss, take-profit and trailing stop,
    exits on EXIT bars and after ``hold_ms`` (asked for with ``wake_at``, re-armed after each
    time exit): every rule the loop's jumps must not step over."""

    name = "flag_trader_test"
    timeframe_min = 5
    params_type = FlagParams

    def __init__(self, params: FlagParams | None = None) -> None:
        super().__init__(params)
        self.calls: Counter[str] = Counter()

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {}

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask:
        flags = columns["volume"].astype(np.int64)
        if symbol == "BBBUSDT":
            flat = np.zeros(len(flags), dtype=bool)
            return flat, np.full(len(flags), self.params.quiet_symbol_holding)
        return (flags & ENTER) > 0, (flags & EXIT) > 0

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        position = ctx.portfolio.position(fill.symbol)
        if position is not None and position.side is fill.side:
            ctx.wake_at(fill.symbol, position.entry_time_ms + self.params.hold_ms + 1)

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        self.calls[bar.symbol] += 1
        flags = int(bar.volume)
        entered = entry_time(ctx.portfolio, bar.symbol)
        if entered is not None:
            if ctx.now_ms - entered > self.params.hold_ms:
                ctx.exit(bar.symbol, "held_too_long")
                ctx.wake_at(bar.symbol, ctx.now_ms + 1)
            elif flags & EXIT:
                ctx.exit(bar.symbol, "exit_flag")
            return
        if not flags & ENTER:
            return
        ref = to_decimal(bar.close)
        short = bool(flags & SHORT)
        away = -1 if short else 1
        ctx.enter(
            bar.symbol,
            Side.SELL if short else Side.BUY,
            EquityFraction(fraction=Decimal("0.2"), leverage=Decimal(2)),
            "enter_flag",
            ref_price=ref,
            stop_loss=ref * (1 - away * Decimal("0.015")),
            take_profits=(TakeProfitLevel(price=ref * (1 + away * Decimal("0.02"))),),
            trailing=TrailingSpec(
                distance=ref * Decimal("0.006"), activation_price=ref * (1 + away * Decimal("0.01"))
            ),
        )


def _data() -> MarketData:
    """AAA and CCC trade (CCC starts later and has a hole); BBB never has an entry flag."""
    odds = ((ENTER, 1 / 40), (EXIT, 1 / 90), (SHORT, 0.5))
    return align(
        [
            walk("AAAUSDT", 4000, seed=1, flag_odds=odds),
            walk("BBBUSDT", 4000, seed=2),
            walk("CCCUSDT", 3500, seed=3, flag_odds=odds, start=500, gap=range(1500, 1600)),
        ]
    )


def _flag_run(skip: bool, **params: Any) -> RunOutput:
    strategy = FlagTrader(FlagParams(**params))
    settings = BacktestSettings(
        skip_quiet_bars=skip, instruments={s: rules(s) for s in strategy.symbols}
    )
    return run(strategy, _data(), settings)


def test_jumping_over_quiet_stretches_gives_the_fills_and_equity_of_every_bar() -> None:
    every, jumped = _flag_run(skip=False), _flag_run(skip=True)
    reasons = Counter(f.close_reason for f in every.fills)
    # the reference run exercises every rule a jump could step over
    assert {"TakeProfit", "StopLoss", "TrailingStop"} <= set(reasons), reasons
    assert reasons["held_too_long"] and reasons["exit_flag"], reasons
    assert any(f.exec_type is ExecType.FUNDING for f in every.fills)
    assert jumped.steps_run < every.steps_run / 3  # the jumps really skip bars
    assert jumped.fills == every.fills
    assert jumped.intents == every.intents
    assert jumped.refusals == every.refusals
    assert (jumped.final_equity, jumped.final_cash) == (every.final_equity, every.final_cash)
    assert to_json(summarize(jumped)) == to_json(summarize(every))


def test_a_holding_mask_wakes_only_its_own_symbol() -> None:
    """BBB is never held: its holding mask, every bar or none, must not add one step or call."""
    sparse = _flag_run(skip=True, quiet_symbol_holding=False)
    dense = _flag_run(skip=True, quiet_symbol_holding=True)
    assert dense.steps_run == sparse.steps_run
    for out in (sparse, dense):
        assert isinstance(out.strategy, FlagTrader)
        assert out.strategy.calls["BBBUSDT"] == 0
        assert out.strategy.calls["AAAUSDT"] > 0
    assert dense.fills == sparse.fills


def test_a_malformed_bar_in_a_quiet_stretch_is_refused_whether_bars_are_skipped_or_not() -> None:
    """A bar the venue's walk refuses (its low above its open or close) must stop a run the same
    way whether the loop walks it or jumps over it: AAA's bar 24 ends a quiet stretch that the
    jumping run hands to the venue with ``pass_quiet`` (its raised low stays inside the band),
    where walking it, as the run calling every bar does, refuses it."""
    aaa, bbb, ccc = (_data().series[s] for s in ("AAAUSDT", "BBBUSDT", "CCCUSDT"))
    low = aaa.low.copy()
    low[24] = max(aaa.open[24], aaa.close[24])
    assert low[24] > min(aaa.open[24], aaa.close[24])  # the bar is malformed
    bad = BarArrays("AAAUSDT", 5, aaa.ts_ms, aaa.open, aaa.high, low, aaa.close, aaa.volume)
    refusals: list[str] = []
    for skip in (False, True):
        strategy = FlagTrader(FlagParams())
        settings = BacktestSettings(
            skip_quiet_bars=skip, instruments={s: rules(s) for s in strategy.symbols}
        )
        with pytest.raises(InvalidField) as refused:
            run(strategy, align([bad, bbb, ccc]), settings)
        refusals.append(str(refused.value))
    every, jumped = refusals
    assert jumped == every
    assert "AAAUSDT bar 24 at 2026-01-01T02:00Z" in every


def test_entries_the_venue_cannot_fill_are_refusals_and_leave_the_run_going() -> None:
    """The same candles nine years earlier, before the fills' 2018 bound: every entry's fill is
    refused at the next open and recorded as a refusal, and the venue is left as it was. (It used
    to keep the refused entry's position, whose funding then stopped the run with an error.)"""
    nine_years = 9 * 365 * 24 * HOUR
    early = align(
        [
            BarArrays(b.symbol, 5, b.ts_ms - nine_years, b.open, b.high, b.low, b.close, b.volume)
            for b in _data().series.values()
        ]
    )
    strategy = FlagTrader(FlagParams())
    settings = BacktestSettings(instruments={s: rules(s) for s in strategy.symbols})
    out = run(strategy, early, settings)
    entries = [i for i in out.intents if i.reason == "enter_flag"]
    assert len(entries) > 50 and out.fills == []
    assert len(out.refusals) == len(entries)
    assert all(r.reason.startswith("venue refused: fill.exec_time=") for r in out.refusals)
    assert out.final_cash == out.final_equity == out.settings.initial_equity
