"""A paper bot's run: the shared matching engine in this process, on replayed candle files
(resuming after the last bar an earlier run processed) or on Bybit's live public closed bars.
No listener watches a paper account, so the bot records its venue's fills through its own
:class:`~alphadesk.engine.recorder.FillRecorder`; its stops survive a restart in
``<state_dir>/<bot_id>.paper.json``. The lifecycle around it (registration, heartbeat, commands,
the end) is :class:`~alphadesk.app.bot.Bot`'s."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from alphadesk.adapters.sim.clock import ReplayClock
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange
from alphadesk.adapters.sim.paper_venue import PaperVenueAdapter
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.app.bot import Bot, BotRun
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.engine.bot_registry import BotRegistry
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.live_driver import LiveDriver, QueuedGateway
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.recovery import recover
from alphadesk.paper.book import PaperBook
from alphadesk.paper.prices import LivePrices, PaperPrices, ReplayPrices, replay_data
from alphadesk.paper.resume import PaperResume
from alphadesk.strategies.api import Strategy


async def run_paper(
    bot: Bot, writer: FillWriter, bots: BotRegistry, recorder: FillRecorder
) -> BotRun:
    opts = bot.options
    strategy = bot.strategy()
    prices = await paper_prices(bot, strategy)
    instruments = prices.instruments
    config = BacktestSettings().sim_config()  # a paper bot trades at the backtest's default costs
    fills = await writer.read_fills(bot_id=bot.bot_id)
    # The venue's ids come from a seeded generator. A restart must not repeat the ids of the
    # fills an earlier run recorded (the ledger would take a new fill with an old id for a
    # duplicate and drop it), so the seed moves with every fill recorded; a first run is
    # seeded 0, as a backtest is.
    sim = MatchingEngine("paper", instruments.values(), config=config, seed=len(fills))
    for symbol, rates in prices.funding.items():  # recorded funding where the data has it
        sim.set_funding_history(symbol, rates)
    warm = opts.warmup_bars if opts.warmup_bars is not None else strategy.warmup_bars
    history = await prices.prepare(warm, fills)  # where trading starts (a replay resumes)
    clock = ReplayClock(prices.start_ms)
    exchange = PaperExchange(sim, clock)
    gateway = QueuedGateway()
    engine = bot.engine_for(strategy, instruments, gateway, opts.initial_capital)
    exchange.serve_engine(engine.fill_label)  # its one listener: the driver, below
    # A restart carries on with the book it left: the capital the bot was first registered
    # with plus what the ledger realised since (the venue's wallet too), not --capital anew.
    engine.portfolio.initial_cash = await bot.register(bots, engine, opts.initial_capital)
    start_ms = clock.ms
    recovery = recover(engine.portfolio, fills, None, start_ms)
    holder: list[LiveDriver] = []
    muted = [True]

    async def deliver(event: SimEvent) -> None:
        if muted[0] or not holder:
            return
        if isinstance(event, Fill):
            await holder[0].on_fill(event)
        elif isinstance(event, OrderUpdated):
            holder[0].on_order(event)

    paper = exchange.venue(bot.bot_id, max(engine.portfolio.cash, Decimal(0)), deliver)
    venue = PaperVenueAdapter(exchange, paper)
    driver = LiveDriver(
        engine,
        venue,
        gateway,
        prices.symbols,
        history=strategy.history,
        hold_orders_for_next_price=True,
        grace_s=0,
        backfill=prices.backfill(clock, exchange),
    )
    holder.append(driver)
    driver.fill_hooks.append(lambda fill: _record(recorder, fill))
    driver.seen(fills)
    for position in engine.portfolio.positions.values():
        last = prices.last_close(position.symbol)
        venue.seed(position, position.avg_entry_price, start_ms, last=last)
    book = PaperBook(opts.state_dir / f"{bot.bot_id}.paper.json", sim, paper.account)
    book.restore()
    muted[0] = False
    driver.warm_up(history)
    run = BotRun(bot.bot_id, engine, driver, recovery)
    engine.start(start_ms)
    await bot.command_inbox(bots, run)
    heartbeat = asyncio.create_task(bot.heartbeat(bots, run))
    try:
        await prices.run(
            driver, clock, exchange, book, bot.stop_event, lambda: bot.started(run)
        )
    finally:
        await bot.finish(bots, run, heartbeat, max(start_ms, driver.stats.last_close_ms))
    return run


async def paper_prices(bot: Bot, strategy: Strategy[Any]) -> PaperPrices:
    """Replayed candle files, or live public Bybit bars; closed when the run ends."""
    opts = bot.options
    prices: PaperPrices
    if opts.prices == "live":
        symbols = sorted(strategy.symbols)
        if not symbols:
            raise ValueError(f"{strategy.name}: paper on live prices needs a symbol list")
        base_url = opts.base_url or bot.settings.bybit_base_url
        prices = await LivePrices.open(
            symbols, strategy.timeframe_min, base_url=base_url, max_bars=opts.max_bars
        )
    else:
        prices = ReplayPrices(
            replay_data(strategy, opts.data),
            PaperResume(opts.state_dir / f"{bot.bot_id}.paper-resume.json"),
            from_ms=opts.start_ms,
            max_bars=opts.max_bars,
            pace_s=opts.pace_s,
        )
    bot.on_close(prices.close)
    return prices


async def _record(recorder: FillRecorder, fill: Fill) -> None:
    await recorder.record([fill])
