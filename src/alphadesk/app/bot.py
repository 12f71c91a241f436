"""One bot, composed from configuration: the only place that switches on the deployment mode.

``paper``: the paper venue (the shared matching engine, in this process) on replayed candles
(resuming after the last bar an earlier run processed, :mod:`alphadesk.paper.resume`) or, with
``prices="live"``, on Bybit's live public closed bars (:mod:`alphadesk.paper.prices`, no key);
no listener watches a paper account, so the bot records its venue's fills through its own
:class:`~alphadesk.engine.recorder.FillRecorder`, the one entrance (ledger, then the bus and the
live positions; a spool under the state folder while the database is unreachable).
``demo``/``testnet``/``live``: the Bybit adapter with the bot's own key; closed bars from the
public kline stream, fills and order updates from the private stream. The bot never writes
fills there: the listener records them (one writer per account); the bot reads them into its
book.

Whatever the mode, a run: registers the bot in ``trading.bots``; restores the kill switch
(``<state_dir>/<bot_id>.risk.json``, else a ``reducing``/``halted`` status left in the table);
rebuilds the book from the ledger and checks it against the venue (:mod:`engine.recovery`; a
paper venue is seeded from the book and gets its stops back from
``<state_dir>/<bot_id>.paper.json``, :mod:`alphadesk.paper.book`);
warms the indicators up on ``warmup_bars`` closed bars without deciding; applies the owner's
commands waiting on ``commands:{bot_id}`` before it trades, then as they come
(:mod:`alphadesk.engine.command_inbox`); trades on closed bars;
beats ``last_heartbeat`` and keeps ``status`` equal to the kill switch's state; and on exit marks
the bot ``stopped``. Stopping never closes a position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment
from alphadesk.adapters.bybit.models import KlineUpdate
from alphadesk.adapters.bybit.streams import public_topics
from alphadesk.adapters.bybit.venue import BybitVenueAdapter, recent_closed_bars
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.sim.clock import ReplayClock
from alphadesk.adapters.sim.config import SimConfig, Slippage
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange
from alphadesk.adapters.sim.paper_venue import PaperVenueAdapter
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
from alphadesk.adapters.spool.disk import DiskSpool
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.adapters.storage.risk_state import FileStateStore
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.urls import parse
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.engine.bot_registry import BotRecord, BotRegistry, state_of_status, status_for
from alphadesk.engine.command_inbox import CommandInbox
from alphadesk.engine.control_ports import AuditLog
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.live_driver import LiveDriver, QueuedGateway
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.recovery import Recovery, recover
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.engine.runner import Engine
from alphadesk.engine.state_ports import BotStatusStore, CommandStreams
from alphadesk.engine.trading_state import TradingState
from alphadesk.paper.book import PaperBook
from alphadesk.paper.prices import LivePrices, PaperPrices, ReplayPrices, replay_data
from alphadesk.paper.resume import PaperResume
from alphadesk.strategies import build
from alphadesk.strategies.api import Strategy

log = logging.getLogger("alphadesk.bot")
Mode = Literal["paper", "demo", "testnet", "live"]
MODES: tuple[Mode, ...] = ("paper", "demo", "testnet", "live")
Prices = Literal["replay", "live"]
PRICES: tuple[Prices, ...] = ("replay", "live")


@dataclass(frozen=True, slots=True)
class BotOptions:
    name: str
    mode: Mode = "paper"
    prices: Prices = "replay"
    """Paper: replayed candle files, or live closed bars from Bybit's public market data."""
    database_url: str | None = None
    state_dir: Path = Path("state")
    data: tuple[Path, ...] = ()
    """Paper: candle files to replay (default: the bundled ones for the strategy's timeframe)."""
    start_ms: int | None = None
    """Paper: the first bar to trade; earlier bars only warm the indicators up."""
    max_bars: int | None = None
    """Stop after this many closed-bar steps (a bounded run); None runs until stopped."""
    initial_capital: Decimal = Decimal(10_000)
    heartbeat_s: float = 5.0
    pace_s: float = 0.0
    """Paper: seconds to wait between replayed steps (0: as fast as possible)."""
    warmup_bars: int | None = None
    base_url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    redis_namespace: str = ""
    """Key namespace of ``bot:{bot_id}:status|heartbeat`` when ``REDIS_URL`` is set."""
    ccxt_pacing: bool = True
    """Bybit modes: ccxt's own request bucket; the demo turns it off against its simulator."""


@dataclass(slots=True)
class BotRun:
    """What a finished (or running) bot did; tests and the CLI read it."""

    bot_id: str
    engine: Engine
    driver: LiveDriver
    recovery: Recovery
    heartbeats: list[datetime] = field(default_factory=list)
    commands: CommandInbox | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the run ends: the heartbeat finishes its beat and returns (never cancelled in
    the middle of a ledger write: a query cancelled through PgBouncer could leave the final
    beat waiting for a connection for good)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Bot:
    def __init__(
        self, settings: Settings, options: BotOptions, *, state: MemoryState | None = None
    ) -> None:
        """``state``: the in-process live state and bus to share (the embedded mode, where a
        control facade in the same process sends this bot its commands); ignored when
        ``REDIS_URL`` is set."""
        if options.mode not in MODES:
            raise ValueError(f"mode={options.mode!r}: expected one of {', '.join(MODES)}")
        if options.prices not in PRICES:
            raise ValueError(f"prices={options.prices!r}: expected one of {', '.join(PRICES)}")
        if options.prices == "live" and options.mode != "paper":
            raise ValueError(f"prices=live: for paper mode only, not mode={options.mode!r}")
        if options.prices == "live" and (options.data or options.start_ms is not None):
            raise ValueError("prices=live: --data and --from replay candle files; drop them")
        self.settings = settings
        self.options = options
        self.config: BotSettings = settings.bot(options.name)
        self.bot_id = self.config.bot_id
        self.url = options.database_url or settings.database_url
        self.stop_event = asyncio.Event()
        self.run_info: BotRun | None = None
        self.on_started: Callable[[BotRun], None] | None = None
        self._live: BotStatusStore | None = None
        self._live_failing = False
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.recorder: FillRecorder | None = None
        """The paper bot's fill recorder (its stats feed the metrics page)."""
        self.client: BybitClient | None = None
        """The Bybit client of a demo/testnet/live run (its REST stats feed the metrics page)."""
        self._state = state
        self._audit: AuditLog | None = None
        self._commands: CommandStreams = MemoryState().bus

    def stop(self) -> None:
        self.stop_event.set()

    def strategy(self) -> Strategy[Any]:
        params = {**dict(self.config.params), **self.options.params}
        return build(self.config.strategy, **params)

    # -- the run --------------------------------------------------------------------------------

    async def run(self) -> BotRun:
        if parse(self.url).kind == "sqlite":
            await asyncio.to_thread(migrate.upgrade, self.url)
        store = await open_store(self.url)
        bots = await open_bots(self.url)
        redis = None
        if self.settings.redis_url:
            redis = RedisState.from_url(
                self.settings.redis_url, namespace=self.options.redis_namespace
            )
            self._live = redis.bots
        spool: DiskSpool | None = None
        shared: RedisState | MemoryState = redis or self._state or MemoryState()
        self._commands = shared.bus
        audit = await open_audit(self.url)
        self._audit = audit
        try:
            writer = FillWriter(store)
            if self.options.mode == "paper":
                state = shared
                folder = self.options.state_dir
                spool = DiskSpool(folder / f"{self.bot_id}.spool")
                trips = await open_round_trips(self.url)
                self._closers.append(trips.close)
                recorder = FillRecorder(
                    writer, spool, bus=state.bus, positions=state.positions,
                    markets=state.market, alerts=state.bus,
                    dead_letters=JsonlDeadLetters(folder / f"{self.bot_id}.dead_letters.jsonl"),
                    trades=RoundTripKeeper(store, trips),  # round trips as it records
                )  # fmt: skip
                self.recorder = recorder
                return await self._run_paper(writer, bots, recorder)
            return await self._run_bybit(writer, bots)
        finally:
            self._live = None
            while self._closers:
                await self._closers.pop()()
            if spool is not None:
                spool.close()
            if redis is not None:
                await redis.aclose()
            self._audit = None
            await audit.close()
            await bots.close()
            await store.close()

    def _engine(
        self,
        strategy: Strategy[Any],
        instruments: dict[str, Instrument],
        gateway: QueuedGateway,
        capital: Decimal,
    ) -> Engine:
        state = FileStateStore(self.options.state_dir / f"{self.bot_id}.risk.json")
        return Engine(
            strategy,
            bot_id=self.bot_id,
            instruments=instruments,
            gateway=gateway,
            initial_cash=capital,
            limits=self.config.extras.risk,  # [bots.<name>.risk] in the TOML file
            kill_limits=self.config.extras.kill_switch,
            state_store=state,
        )

    async def _register(self, bots: BotRegistry, engine: Engine, capital: Decimal) -> Decimal:
        """Upsert the row; a halt/reduce the table remembers wins over a missing state file."""
        existing = await bots.get(self.bot_id)
        stored_state = state_of_status(existing.status) if existing is not None else None
        key = f"risk:bot:{self.bot_id}"
        state_store = engine.kill_switch._store  # the store this run built
        if stored_state is not None and state_store.get(key) is None:
            log.warning(
                "%s: kill switch restored as %s from trading.bots", self.bot_id, stored_state.value
            )
            engine.command_state(stored_state, to_epoch_ms(_now()), "restored from trading.bots")
        initial = existing.initial_capital if existing is not None else capital
        strategy = engine.strategy
        await bots.register(
            BotRecord(
                bot_id=self.bot_id,
                bot_name=self.bot_id,
                bot_type=strategy.name,
                strategy_name=strategy.name,
                status=status_for(engine.risk.state),
                deployment_mode=self.options.mode,
                initial_capital=initial,
                current_equity=engine.portfolio.equity,
                last_heartbeat=_now(),
            )
        )
        return initial

    async def _heartbeat(self, bots: BotRegistry, run: BotRun) -> None:
        status = ""
        while True:
            at = _now()
            await bots.heartbeat(self.bot_id, at, equity=run.engine.portfolio.equity)
            run.heartbeats.append(at)
            now_status = status_for(run.engine.risk.state)
            if now_status != status:
                await bots.set_status(self.bot_id, now_status)
            await self._live_status(at, now_status if now_status != status else None)
            status = now_status
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.stopping.wait(), timeout=self.options.heartbeat_s)
            if run.stopping.is_set():
                return

    async def _live_status(self, at: datetime, status: str | None) -> None:
        """``bot:{bot_id}:heartbeat`` (expiring after three missed beats) and, when it changed,
        ``bot:{bot_id}:status`` in the shared state. ``trading.bots`` is the record; the keys
        are what a dashboard or the Telegram bot watch, so a Redis outage is logged once and
        the next beat tries again, and never stops the bot."""
        if self._live is None:
            return
        try:
            await self._live.beat(self.bot_id, at, ttl_s=max(3 * self.options.heartbeat_s, 1.0))
            if status is not None:
                await self._live.set_status(self.bot_id, status)
        except Exception as exc:
            if not self._live_failing:
                log.warning("%s: live status not written to Redis: %s", self.bot_id, exc)
            self._live_failing = True
        else:
            self._live_failing = False

    async def _finish(
        self, bots: BotRegistry, run: BotRun, tasks: Sequence[asyncio.Task[Any]], now_ms: int
    ) -> None:
        run.engine.stop(now_ms)  # the strategy's on_stop: never flattens
        if run.commands is not None:
            await run.commands.close()
        await run.driver.close()
        run.stopping.set()  # the heartbeat returns after its current beat
        for task in tasks[1:]:  # tasks[0] is the heartbeat
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        at = _now()
        await bots.heartbeat(self.bot_id, at, equity=run.engine.portfolio.equity)
        await bots.set_status(self.bot_id, "stopped")
        await self._live_status(at, "stopped")

    async def _command_inbox(self, bots: BotRegistry, run: BotRun) -> None:
        """Apply the commands that waited on ``commands:{bot_id}`` while the bot was down,
        before it trades; then keep applying them as they come (closed by ``_finish``)."""

        async def persist(state: TradingState) -> None:
            word = status_for(state)
            await bots.set_status(self.bot_id, word)
            await self._live_status(_now(), word)

        inbox = CommandInbox(
            run.engine, self._commands.commands(self.bot_id), persist=persist, audit=self._audit
        )
        run.commands = inbox
        await inbox.drain()
        inbox.start()

    def _started(self, run: BotRun) -> None:
        self.run_info = run
        if self.on_started is not None:
            self.on_started(run)

    # -- paper ----------------------------------------------------------------------------------

    async def _run_paper(
        self, writer: FillWriter, bots: BotRegistry, recorder: FillRecorder
    ) -> BotRun:
        opts = self.options
        strategy = self.strategy()
        prices = await self._paper_prices(strategy)
        defaults = BacktestSettings()
        instruments = prices.instruments
        config = SimConfig(
            taker_fee=defaults.taker_fee,
            maker_fee=defaults.maker_fee,
            slippage=Slippage(bps=defaults.slippage_bps),
            funding_rate=defaults.funding_rate,
            default_leverage=defaults.leverage,
        )
        fills = await writer.read_fills(bot_id=self.bot_id)
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
        engine = self._engine(strategy, instruments, gateway, opts.initial_capital)
        exchange.serve_engine(engine.fill_label)  # its one listener: the driver, below
        # A restart carries on with the book it left: the capital the bot was first registered
        # with plus what the ledger realised since (the venue's wallet too), not --capital anew.
        engine.portfolio.initial_cash = await self._register(bots, engine, opts.initial_capital)
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

        paper = exchange.venue(self.bot_id, max(engine.portfolio.cash, Decimal(0)), deliver)
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
        book = PaperBook(opts.state_dir / f"{self.bot_id}.paper.json", sim, paper.account)
        book.restore()
        muted[0] = False
        driver.warm_up(history)
        run = BotRun(self.bot_id, engine, driver, recovery)
        engine.start(start_ms)
        await self._command_inbox(bots, run)
        tasks = [asyncio.create_task(self._heartbeat(bots, run))]
        try:
            await prices.run(
                driver, clock, exchange, book, self.stop_event, lambda: self._started(run)
            )
        finally:
            await self._finish(bots, run, tasks, max(start_ms, driver.stats.last_close_ms))
        return run

    async def _paper_prices(self, strategy: Strategy[Any]) -> PaperPrices:
        """Replayed candle files, or live public Bybit bars; closed when the run ends."""
        opts = self.options
        prices: PaperPrices
        if opts.prices == "live":
            symbols = sorted(strategy.symbols)
            if not symbols:
                raise ValueError(f"{strategy.name}: paper on live prices needs a symbol list")
            base_url = opts.base_url or self.settings.bybit_base_url
            prices = await LivePrices.open(
                symbols, strategy.timeframe_min, base_url=base_url, max_bars=opts.max_bars
            )
        else:
            prices = ReplayPrices(
                replay_data(strategy, opts.data),
                PaperResume(opts.state_dir / f"{self.bot_id}.paper-resume.json"),
                from_ms=opts.start_ms,
                max_bars=opts.max_bars,
                pace_s=opts.pace_s,
            )
        self._closers.append(prices.close)
        return prices

    # -- Bybit ----------------------------------------------------------------------------------

    def _account(self) -> AccountConfig:
        env = Environment(self.options.mode)
        return AccountConfig(
            account=self.config.account,
            api_key=self.config.api_key.reveal(),
            secret=self.config.api_secret,
            environment=env,
            base_url=self.options.base_url or self.settings.bybit_base_url,
            ccxt_pacing=self.options.ccxt_pacing,
        )

    async def _run_bybit(self, writer: FillWriter, bots: BotRegistry) -> BotRun:
        strategy = self.strategy()
        symbols = sorted(strategy.symbols)
        if not symbols:
            raise ValueError(f"{strategy.name}: live trading needs an explicit symbol list")
        client = await BybitClient.connect(self._account(), default_bot=self.bot_id)
        self.client = client
        try:
            return await self._trade_bybit(client, writer, bots, strategy, symbols)
        finally:
            await client.close()

    async def _trade_bybit(
        self,
        client: BybitClient,
        writer: FillWriter,
        bots: BotRegistry,
        strategy: Strategy[Any],
        symbols: list[str],
    ) -> BotRun:
        opts = self.options
        instruments = {}
        for symbol in symbols:
            found = await client.market.instruments(symbol)
            instruments[symbol] = found[0]
        wallet = await client.account.wallet()
        gateway = QueuedGateway()
        engine = self._engine(strategy, instruments, gateway, opts.initial_capital)
        venue = BybitVenueAdapter(client)
        interval = strategy.timeframe_min

        async def backfill(symbol: str, first: int, last: int) -> list[Bar]:
            from alphadesk.domain.checks import from_epoch_ms

            return await client.market.klines(
                symbol, interval, from_epoch_ms("start", first), from_epoch_ms("end", last)
            )

        driver = LiveDriver(
            engine, venue, gateway, symbols, history=strategy.history, backfill=backfill
        )
        capital = await self._register(bots, engine, wallet.equity)
        engine.portfolio.initial_cash = capital
        fills = await writer.read_fills(bot_id=self.bot_id)
        positions = await client.trading.positions()
        now_ms = to_epoch_ms(_now())
        recovery = recover(engine.portfolio, fills, positions, now_ms)
        driver.seen(fills)
        warm = opts.warmup_bars if opts.warmup_bars is not None else strategy.warmup_bars
        history = {s: await recent_closed_bars(client, s, interval, warm) for s in symbols}
        driver.warm_up(history)
        run = BotRun(self.bot_id, engine, driver, recovery)
        engine.start(max((b[-1].close_time_ms for b in history.values() if b), default=now_ms))
        await self._command_inbox(bots, run)

        async def on_private(event: object) -> None:
            if isinstance(event, Fill):
                await driver.on_fill(event)
            elif isinstance(event, OrderUpdated):
                driver.on_order(event)

        async def on_public(event: object) -> None:
            if isinstance(event, KlineUpdate) and event.confirmed:
                await driver.on_closed_bar(event.bar)
                if opts.max_bars is not None and driver.stats.steps >= opts.max_bars:
                    self.stop_event.set()

        await client.private_stream(on_private)
        await client.public_stream(
            public_topics(symbols, kline_interval_min=interval, tickers=False), on_public
        )
        tasks = [
            asyncio.create_task(self._heartbeat(bots, run)),
            asyncio.create_task(driver.run_sender()),
        ]
        self._started(run)
        try:
            await self.stop_event.wait()
        finally:
            await self._finish(bots, run, tasks, engine.ctx.now_ms)
        return run


async def _record(recorder: FillRecorder, fill: Fill) -> None:
    await recorder.record([fill])
