"""A bot's run on Bybit (``demo``, ``testnet`` or ``live``) with its own key: closed bars from the
public kline stream, fills and order updates from the private stream. The bot never writes fills
here: the listener records them (one writer per account) and the bot reads them into its book.
The lifecycle around it is :class:`~alphadesk.app.bot.Bot`'s."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment
from alphadesk.adapters.bybit.models import KlineUpdate
from alphadesk.adapters.bybit.streams import public_topics
from alphadesk.adapters.bybit.venue import BybitVenueAdapter, recent_closed_bars
from alphadesk.app.bot import Bot, BotRun
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import from_epoch_ms, to_epoch_ms
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.engine.bot_registry import BotRegistry
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.live_driver import LiveDriver, QueuedGateway
from alphadesk.engine.recovery import recover
from alphadesk.strategies.api import Strategy


def account_config(bot: Bot) -> AccountConfig:
    env = Environment(bot.options.mode)
    return AccountConfig(
        account=bot.config.account,
        api_key=bot.config.api_key.reveal(),
        secret=bot.config.api_secret,
        environment=env,
        base_url=bot.options.base_url or bot.settings.bybit_base_url,
        ccxt_pacing=bot.options.ccxt_pacing,
    )


async def run_bybit(bot: Bot, writer: FillWriter, bots: BotRegistry) -> BotRun:
    strategy = bot.strategy()
    symbols = sorted(strategy.symbols)
    if not symbols:
        raise ValueError(f"{strategy.name}: live trading needs an explicit symbol list")
    client = await BybitClient.connect(account_config(bot), default_bot=bot.bot_id)
    bot.client = client
    try:
        return await _trade(bot, client, writer, bots, strategy, symbols)
    finally:
        await client.close()


async def _trade(
    bot: Bot,
    client: BybitClient,
    writer: FillWriter,
    bots: BotRegistry,
    strategy: Strategy[Any],
    symbols: list[str],
) -> BotRun:
    opts = bot.options
    instruments = {}
    for symbol in symbols:
        found = await client.market.instruments(symbol)
        instruments[symbol] = found[0]
    wallet = await client.account.wallet()
    gateway = QueuedGateway()
    engine = bot.engine_for(strategy, instruments, gateway, opts.initial_capital)
    venue = BybitVenueAdapter(client)
    interval = strategy.timeframe_min

    async def backfill(symbol: str, first: int, last: int) -> list[Bar]:

        return await client.market.klines(
            symbol, interval, from_epoch_ms("start", first), from_epoch_ms("end", last)
        )

    driver = LiveDriver(
        engine, venue, gateway, symbols, history=strategy.history, backfill=backfill
    )
    capital = await bot.register(bots, engine, wallet.equity)
    engine.portfolio.initial_cash = capital
    fills = await writer.read_fills(bot_id=bot.bot_id)
    positions = await client.trading.positions()
    now_ms = to_epoch_ms(datetime.now(UTC))
    recovery = recover(engine.portfolio, fills, positions, now_ms)
    driver.seen(fills)
    warm = opts.warmup_bars if opts.warmup_bars is not None else strategy.warmup_bars
    history = {s: await recent_closed_bars(client, s, interval, warm) for s in symbols}
    driver.warm_up(history)
    run = BotRun(bot.bot_id, engine, driver, recovery)
    engine.start(max((b[-1].close_time_ms for b in history.values() if b), default=now_ms))
    await bot.command_inbox(bots, run)

    async def on_private(event: object) -> None:
        if isinstance(event, Fill):
            await driver.on_fill(event)
        elif isinstance(event, OrderUpdated):
            driver.on_order(event)

    async def on_public(event: object) -> None:
        if isinstance(event, KlineUpdate) and event.confirmed:
            await driver.on_closed_bar(event.bar)
            if opts.max_bars is not None and driver.stats.steps >= opts.max_bars:
                bot.stop_event.set()

    await client.private_stream(on_private)
    await client.public_stream(
        public_topics(symbols, kline_interval_min=interval, tickers=False), on_public
    )
    heartbeat = asyncio.create_task(bot.heartbeat(bots, run))
    sender = asyncio.create_task(driver.run_sender())
    bot.started(run)
    try:
        await bot.stop_event.wait()
    finally:
        await bot.finish(bots, run, heartbeat, engine.ctx.now_ms, others=[sender])
    return run
