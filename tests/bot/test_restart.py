"""Restart: the book comes back from the ledger (and the paper venue is seeded from it, its
positions' stops included), the bot neither re-enters nor flattens, and the kill switch comes back
in the state it left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import EnterIntent, ExitIntent, NotionalSize
from alphadesk.domain.positions import fold
from alphadesk.domain.secrets import Secret
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies import specs as ind
from alphadesk.strategies.api import Row, Strategy, StrategyContext, TradingState
from alphadesk.strategies.specs import IndicatorSpec

from .support import BOT_ID, backtest, paper_options, run_bot, settings

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@dataclass(frozen=True, slots=True)
class ShortAllParams:
    symbols: tuple[str, ...] = SYMBOLS


class ShortAll(Strategy[ShortAllParams]):
    """Shorts every symbol it is flat in, without exits: three positions held open."""

    name = "bot_short_all"
    timeframe_min = 5
    params_type = ShortAllParams

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {"close": ind.source("close")}

    def on_bar(self, ctx: StrategyContext, bar: Bar, row: Row) -> None:
        if ctx.portfolio.position(bar.symbol) is None:
            price = to_decimal(bar.close)
            ctx.enter(bar.symbol, Side.SELL, NotionalSize(usdt=Decimal(300)), "probe",
                      ref_price=price)


async def test_a_paper_bot_restarts_twice_with_three_open_positions(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12 item 2: the second run refused its own restore orders as duplicates (one
    ``orderLinkId`` for every position it put back on the paper venue) and exited."""
    monkeypatch.setitem(STRATEGIES, ShortAll.name, ShortAll)
    config = Settings(
        database_url=db_url,
        bots=(BotSettings(BOT_ID, ShortAll.name, "probe", Secret(""), Secret("")),),
    )
    options = replace(paper_options(market_csv, tmp_path / "state", max_bars=3), name=BOT_ID)
    first = await Bot(config, options).run()
    held = {s: (p.qty, p.cost) for s, p in first.engine.portfolio.positions.items()}
    assert sorted(held) == list(SYMBOLS) and all(qty < 0 for qty, _ in held.values())

    for _ in range(2):
        again = await Bot(config, options).run()
        assert again.driver.stats.steps == 3
        assert again.recovery.consistent and again.engine.fills == []  # nothing re-entered
        book = {s: (p.qty, p.cost) for s, p in again.engine.portfolio.positions.items()}
        assert book == held
        paper = again.driver.venue.paper  # type: ignore[attr-defined]
        venue = {p.symbol: -p.size for p in await paper.positions() if p.size}
        assert venue == {s: qty for s, (qty, _) in held.items()}

SCAN = 4032
VENUE_EXITS = ("StopLoss", "TakeProfit", "TrailingStop")


def _open_step(market_csv: Callable[[str], Path]) -> tuple[int, str]:
    """A timeline step after which the backtest holds a position: where to stop the first run."""
    twin = backtest(market_csv, SCAN)
    timeline = twin.data.timeline.tolist()
    for fill in twin.fills:
        if not fill.moves_position:
            continue
        entry_ms = to_epoch_ms(fill.exec_time)
        step = next(k for k, t in enumerate(timeline) if t > entry_ms) + 3
        cutoff = timeline[step]
        held = [
            f for f in twin.fills if f.symbol == fill.symbol and to_epoch_ms(f.exec_time) < cutoff
        ]
        if not fold(BOT_ID, fill.symbol, held).is_flat:
            return step, fill.symbol
    raise AssertionError("no open position in the scanned period")


async def test_restart_rebuilds_the_position_and_neither_reenters_nor_flattens(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    step, symbol = _open_step(market_csv)
    state = tmp_path / "state"
    first = await run_bot(db_url, paper_options(market_csv, state, max_bars=step))
    held = first.engine.portfolio.positions[symbol]
    assert not held.is_flat

    timeline_ms = int(first.engine.ctx.now_ms)
    second = await run_bot(
        db_url, paper_options(market_csv, state, start_ms=timeline_ms, max_bars=0)
    )
    assert second.recovery.fills == len(first.engine.fills)
    assert second.recovery.consistent
    rebuilt = second.engine.portfolio.positions[symbol]
    assert (rebuilt.qty, rebuilt.cost) == (held.qty, held.cost)
    assert second.engine.portfolio.cash == first.engine.portfolio.cash
    assert second.engine.intents == []  # restarting places nothing

    third = await run_bot(
        db_url, paper_options(market_csv, state, start_ms=timeline_ms, max_bars=24)
    )
    on_symbol = [i for i in third.engine.intents if i.symbol == symbol]
    assert not any(isinstance(i, EnterIntent) for i in on_symbol[:1])
    assert not any(isinstance(i, ExitIntent) and i.time_ms == timeline_ms for i in on_symbol)
    venue = third.driver.venue
    reported = {p.symbol: p for p in await venue.paper.positions()}  # type: ignore[attr-defined]
    if symbol in third.engine.portfolio.positions:
        assert reported[symbol].size == third.engine.portfolio.positions[symbol].size


def _venue_exit(market_csv: Callable[[str], Path]) -> tuple[int, int, Fill]:
    """In the backtest: a position closed by its venue-side stop. Returns a step a few bars
    after its entry (where to stop the first run), the step after the exit, and the exit fill."""
    twin = backtest(market_csv, SCAN)
    timeline = twin.data.timeline.tolist()

    def step_of(fill: Fill) -> int:
        return next(k for k, t in enumerate(timeline) if t > to_epoch_ms(fill.exec_time))

    for index, fill in enumerate(twin.fills):
        if fill.close_reason not in VENUE_EXITS:
            continue
        entry = next(
            f
            for f in reversed(twin.fills[:index])
            if f.symbol == fill.symbol and f.moves_position and f.side is not fill.side
        )
        if step_of(fill) - step_of(entry) > 10:
            return step_of(fill) - 3, step_of(fill) + 1, fill
    raise AssertionError("no venue-side exit in the scanned period")


async def test_restart_keeps_the_paper_positions_stops(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    """A paper bot stopped while its position is protected gets the same stop back on restart,
    trailing state included, and the stop closes the position where an unbroken run's did."""
    restart, after_exit, exit_fill = _venue_exit(market_csv)
    state = tmp_path / "state"
    first = await run_bot(db_url, paper_options(market_csv, state, max_bars=restart))
    venue = first.driver.venue
    held = venue.exchange.engine.protection(venue.account, exit_fill.symbol)  # type: ignore[attr-defined]
    assert held is not None and held.armed, held

    resume_ms = int(first.engine.ctx.now_ms)
    check = await run_bot(db_url, paper_options(market_csv, state, start_ms=resume_ms, max_bars=0))
    back = check.driver.venue
    assert back.exchange.engine.protection(back.account, exit_fill.symbol) == held  # type: ignore[attr-defined]

    second = await run_bot(
        db_url,
        paper_options(market_csv, state, start_ms=resume_ms, max_bars=after_exit - restart),
    )

    def shown(fills: list[Fill]) -> list[tuple[object, ...]]:
        return [
            (f.symbol, f.side, f.qty, f.price, f.exec_time, f.close_reason)
            for f in fills
            if f.close_reason in VENUE_EXITS
        ]

    assert shown(second.engine.fills) == shown([exit_fill])
    # recorded too: the restarted venue's fill ids do not repeat the first run's
    store = await open_store(db_url)
    try:
        recorded = await store.read_fills(bot_id=BOT_ID)
    finally:
        await store.close()
    assert shown(recorded) == shown([exit_fill])
    assert len(recorded) == len(first.engine.fills) + len(second.engine.fills)


async def test_kill_switch_state_survives_restart(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = await run_bot(db_url, paper_options(market_csv, state, max_bars=5))
    first.engine.command_state(TradingState.HALTED, first.engine.ctx.now_ms, "owner halt")

    bot = Bot(settings(db_url), paper_options(market_csv, state, max_bars=3, pace_s=0.2))
    started = asyncio.Event()
    bot.on_started = lambda _run: started.set()
    task = asyncio.create_task(bot.run())
    bots = await open_bots(db_url)
    try:
        await asyncio.wait_for(started.wait(), 30)
        during = await bots.get(BOT_ID)
        second = await asyncio.wait_for(task, 30)
        after = await bots.get(BOT_ID)
        assert during is not None and during.status == "halted"
        assert after is not None and after.status == "stopped"
        assert second.engine.risk.state is TradingState.HALTED

        # without the state file, a halt the table still shows (a crash) is restored from it
        (state / f"{BOT_ID}.risk.json").unlink()
        await bots.set_status(BOT_ID, "halted")
        third = await run_bot(db_url, paper_options(market_csv, state, max_bars=0))
        assert third.engine.risk.state is TradingState.HALTED
    finally:
        await bots.close()
