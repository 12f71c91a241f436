"""The whole desk in one process, on the demo's markets: what ``alphadesk demo`` runs.

Composition only, of the parts the desk runs in production, each wired as its own command wires
it: the local Bybit simulators (:mod:`alphadesk.app.demo.market`) with one account (one API key)
per bot; the three bots (:class:`alphadesk.app.bot.Bot`, Bybit ``demo`` mode: the real Bybit
adapter, ccxt REST and the desk's WebSockets, over loopback sockets); the listener
(:class:`alphadesk.listener.service.Listener`, the one writer of the accounts' fills, orders and
equity, into the demo's ledger); at the end a sync of every account's history through a recorder
of its own (:class:`alphadesk.engine.sync.Syncer`) and a reconcile of the ledger against each
venue (:class:`alphadesk.engine.reconcile.Reconciler`), then the analytics summary read back from
the ledger. State and the bus are in-process (:mod:`alphadesk.adapters.memory`) unless a Redis URL
is given.

The clock is the simulators'. It moves in lockstep: a step replays the next 5 minutes (4 hours
once the 5-minute files end), then waits until every bot has decided on the bars it closed and
its market orders are answered, so a run is as fast as the machine and the same on a slow one.
Two things differ from a live desk, both because the replay runs thousands of times faster than
Bybit's clock: the venue's per-second request limits are raised out of the way, and ccxt's own
per-key request bucket is off (the client still obeys the venue's limit headers and 10006).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, RetryPolicy, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec, account_bots
from alphadesk.adapters.bybit.history import History, SyncHistory
from alphadesk.adapters.bybit.parse import VENUE
from alphadesk.adapters.bybit.reconcile_view import BybitAccountView
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
from alphadesk.adapters.storage.order_reads import open_orders
from alphadesk.adapters.storage.order_records import open_records
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.sync_status import open_sync_status
from alphadesk.adapters.storage.watermarks import FileWatermarks
from alphadesk.analytics.desk import DeskSummary, summarize
from alphadesk.app.bot import Bot, BotOptions, BotRun
from alphadesk.app.demo.market import (
    MARKETS,
    DemoMarkets,
    MarketSpec,
    common_start,
    load_market,
)
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import OrderType
from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import Ingest, IngestStats
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore, RoundTripStore, StoredRoundTrip
from alphadesk.engine.reconcile import Reconciler, Report
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.engine.sync import AccountTotals, SyncAccount, Syncer
from alphadesk.listener.service import Listener
from alphadesk.simulator import RateLimits, SimAccount, Simulator
from alphadesk.simulator.candles import CandleSeries

log = logging.getLogger("alphadesk.demo")

INITIAL_BALANCE = Decimal(10_000)
#: Far above what three bots ask in a replayed second: Bybit's 10 orders/s per key is a limit in
#: real seconds, and a replayed second holds hours of the market.
DEMO_RATE_LIMITS = RateLimits(
    groups={p: simulator.LimitGroup(p, 10_000) for p in ("/v5/order/create", "/v5/order/amend",
                                                          "/v5/order/cancel",
                                                          "/v5/order/cancel-all")},
    other_per_second=10_000,
)
STEP_TIMEOUT_S = 10.0
SETTLE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class DemoBot:
    bot_id: str
    strategy: str
    market: str
    """Which simulator it trades on (``5m`` or ``4h``)."""


#: The seed's three strategies on the markets of their timeframes, under bot ids of their own
#: (``-`` cannot be used: it separates the parts of an ``orderLinkId``).
DEMO_BOTS: tuple[DemoBot, ...] = (
    DemoBot("demo_shortseller", "shortseller", "5m"),
    DemoBot("demo_lxalgo", "lxalgo", "5m"),
    DemoBot("demo_momentum", "momentum", "4h"),
)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    database_url: str
    work_dir: Path
    """The bots' state files, the listener's spool, watermarks and health file."""
    redis_url: str | None = None
    namespace: str = ""
    days: float | None = None
    """Simulated days to replay from the start; None replays every bundled candle."""
    seed: int = 0
    heartbeat_s: float = 1.0


@dataclass(slots=True)
class BotLive:
    """One bot as the progress display sees it."""

    bot_id: str
    strategy: str
    market: str
    orders: int = 0
    fills: int = 0
    pnl: Decimal = Decimal(0)
    open_positions: int = 0


@dataclass(slots=True)
class Snapshot:
    """What the progress display shows; refreshed after every step."""

    phase: str
    clock: datetime | None = None
    steps: int = 0
    total_steps: int = 0
    bars: int = 0
    recorded: int = 0
    """Executions the listener stored in the ledger."""
    bots: list[BotLive] = field(default_factory=list)


class Progress(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...


@dataclass(slots=True)
class DemoOutcome:
    start: datetime
    end: datetime
    steps: int
    bars: int
    bots: list[BotLive]
    listener: IngestStats
    sync: list[AccountTotals]
    reconcile: list[Report]
    summary: DeskSummary
    fills: list[Fill]
    trips: list[StoredRoundTrip]
    late_steps: int = 0
    wall_s: float = 0.0

    @property
    def differences(self) -> int:
        return sum(len(r.differences) for r in self.reconcile)


def _settings(config: DemoConfig, keys: dict[str, SimAccount],
              loaded: Sequence[tuple[MarketSpec, Sequence[CandleSeries]]]) -> Settings:
    symbols = {spec.name: tuple(sorted(s.symbol for s in series)) for spec, series in loaded}
    params: dict[str, dict[str, Any]] = {
        "lxalgo": {"symbols": symbols["5m"]},  # the seed's universe: what the venue lists
        "momentum": {"symbols": symbols["4h"]},
    }
    bots = tuple(
        BotSettings(b.bot_id, b.strategy, b.bot_id, Secret(keys[b.bot_id].key),
                    Secret(keys[b.bot_id].secret), params.get(b.strategy, {}))
        for b in DEMO_BOTS
    )  # fmt: skip
    return Settings(database_url=config.database_url, redis_url=config.redis_url,
                    bybit_environment="demo", bots=bots)  # fmt: skip


def _accounts(seed: int) -> dict[str, SimAccount]:
    """One simulator account (one API key, like one Bybit sub-account) per bot."""
    return {
        b.bot_id: SimAccount(f"DEMO{i}{seed % 10_000:04d}KEY",
                             f"demo-secret-{i}-{seed:x}-0123456789", name=b.bot_id,
                             balance=INITIAL_BALANCE)
        for i, b in enumerate(DEMO_BOTS)
    }  # fmt: skip


def _quiet(run: BotRun, due_ms: int) -> bool:
    """The bot decided on every bar closed up to ``due_ms`` and its market orders are answered
    (their fills came back); a resting limit or a stop may wait."""
    driver = run.driver
    if driver.stats.last_close_ms < due_ms:
        return False
    gateway = driver.gateway
    if gateway.orders or gateway.protection:
        return False
    return not any(
        f.request.order_type is OrderType.MARKET for f in run.engine.router.inflight.values()
    )


def _settled(run: BotRun, due_ms: int, task: asyncio.Task[BotRun]) -> bool:
    return task.done() or _quiet(run, due_ms)


async def _until(check: Callable[[], bool], within_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    spins = 0
    while not check():
        if loop.time() > deadline:
            return False
        spins += 1
        await asyncio.sleep(0 if spins < 20 else 0.0005)
    return True


class DemoDesk:
    def __init__(self, config: DemoConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.accounts = _accounts(config.seed)
        self.loaded = [(spec, load_market(spec)) for spec in MARKETS]
        self.settings = _settings(config, self.accounts, self.loaded)
        self.snapshot = Snapshot("starting")
        self._bots: list[tuple[DemoBot, Bot, asyncio.Task[BotRun]]] = []

    # -- display ---------------------------------------------------------------------------------

    def _show(self, phase: str, markets: DemoMarkets | None = None,
              ingest: Ingest | None = None) -> None:
        snap = self.snapshot
        snap.phase = phase
        if markets is not None:
            snap.clock, snap.steps, snap.bars = markets.now(), markets.steps, markets.bars
        if ingest is not None:
            snap.recorded = ingest.stats.inserted
        for live, (_, bot, _) in zip(snap.bots, self._bots, strict=False):  # started so far
            run = bot.run_info
            if run is None:
                continue
            portfolio = run.engine.portfolio
            live.orders = run.driver.stats.orders_sent
            live.fills = run.driver.stats.fills
            live.pnl = portfolio.equity - portfolio.initial_cash
            live.open_positions = len(portfolio.positions)
        if self.progress is not None:
            self.progress.update(snap)

    # -- the run ---------------------------------------------------------------------------------

    async def run(self) -> DemoOutcome:
        began = time.monotonic()
        config = self.config
        loaded = self.loaded
        start = common_start(loaded)
        data_end = max(s.candles[-1].start_ms + s.interval_ms for _, ss in loaded for s in ss)
        end = DemoMarkets.window(start, config.days, data_end)
        self.snapshot.bots = [BotLive(b.bot_id, b.strategy, b.market) for b in DEMO_BOTS]
        self._show("starting the simulators")
        async with contextlib.AsyncExitStack() as stack:
            sims = {spec.name: await stack.enter_async_context(self._simulator(spec.name, series,
                                                                                start))
                    for spec, series in loaded}  # fmt: skip
            markets = DemoMarkets(sims, start, end)
            self.snapshot.total_steps = markets.total_steps()
            outcome = await self._desk(stack, markets)
        outcome.wall_s = time.monotonic() - began
        return outcome

    def _simulator(self, market: str, series: Sequence[CandleSeries],
                   start: int) -> contextlib.AbstractAsyncContextManager[Simulator]:
        accounts = [self.accounts[b.bot_id] for b in DEMO_BOTS if b.market == market]
        return simulator.run_simulator(series, accounts, start_ms=start, seed=self.config.seed,
                                       rate_limits=DEMO_RATE_LIMITS)

    def _specs(self, markets: DemoMarkets) -> list[AccountSpec]:
        specs = []
        for b in DEMO_BOTS:
            account = self.accounts[b.bot_id]
            config = AccountConfig(b.bot_id, account.key, Secret(account.secret), Environment.DEMO,
                                   base_url=markets.sims[b.market].base_url, ccxt_pacing=False)
            specs.append(AccountSpec(config, (b.bot_id,)))
        return specs

    async def _desk(self, stack: contextlib.AsyncExitStack, markets: DemoMarkets) -> DemoOutcome:
        config = self.config
        url = config.database_url
        work = config.work_dir
        store = await open_store(url)
        stack.push_async_callback(store.close)
        state: MemoryState | RedisState = MemoryState()
        if config.redis_url:
            state = RedisState.from_url(config.redis_url, namespace=config.namespace)
        stack.push_async_callback(state.aclose)
        specs = self._specs(markets)
        records = await open_records(url, {s.account: s.default_bot for s in specs})
        stack.push_async_callback(records.close)
        trips = await open_round_trips(url)
        stack.push_async_callback(trips.close)
        spool = DiskSpool(work / "fill-spool")
        stack.callback(spool.close)
        letters = JsonlDeadLetters.beside(work / "fill-spool")
        ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,
                        markets=state.market, alerts=state.bus, orders=records, equity=records,
                        dead_letters=letters, account_bots=account_bots(specs),
                        mismatch_grace_s=10.0, db_retry_s=2.0)  # fmt: skip
        ingest.recorder.trades = RoundTripKeeper(store, trips)
        five = markets.sims["5m"]
        public = AccountConfig.public(environment=Environment.DEMO, base_url=five.base_url,
                                      ccxt_pacing=False)
        symbols = sorted(five.exchange.instruments)
        listener = Listener(ingest, specs, symbols=symbols, public_config=public, bus=state.bus,
                            markets=state.market, venue_clock=markets.now,
                            health_file=work / "listener-health.json",
                            watermarks=FileWatermarks(work / "fill-spool" / "watermarks.json"),
                            gapfill_every_s=None, dead_letters=letters,
                            tickers=False)  # fmt: skip
        self._show("starting the listener")
        await listener.start()
        listener_open = True
        try:
            await self._start_bots(markets)
            late = await self._replay(markets, ingest)
            self._show("waiting for the listener to record every fill", markets, ingest)
            await self._settle(store)
            self._show("stopping the bots (positions stay open)", markets, ingest)
            await self._stop_bots()
        finally:
            if listener_open:
                await listener.close()
            await self._cancel_bots()
        listener_open = False
        self._show("syncing each account's history", markets, ingest)
        period = (_at(markets.start_ms) - timedelta(hours=1), markets.now() + timedelta(hours=1))
        synced = await self._sync(specs, state, store, trips, period, markets)
        self._show("reconciling the ledger with each venue", markets, ingest)
        reports = await self._reconcile(specs, store, period, markets)
        self._show("reading the ledger", markets, ingest)
        fills = [f for f in await store.read_fills() if f.bot_id in {b.bot_id for b in DEMO_BOTS}]
        rows = []
        for b in DEMO_BOTS:
            rows.extend(await trips.list_round_trips(bot_id=b.bot_id))
        summary = summarize(fills, rows, bots=[b.bot_id for b in DEMO_BOTS])
        self._show("done", markets, ingest)
        return DemoOutcome(
            start=_at(markets.start_ms), end=markets.now(), steps=markets.steps,
            bars=markets.bars, bots=self.snapshot.bots, listener=ingest.stats, sync=synced,
            reconcile=reports, summary=summary, fills=fills, trips=rows, late_steps=late,
        )  # fmt: skip

    async def _start_bots(self, markets: DemoMarkets) -> None:
        """One at a time: each registers, migrates a SQLite ledger and warms up from REST."""
        for b in DEMO_BOTS:
            self._show(f"starting {b.bot_id} ({b.strategy}, {b.market} market)", markets)
            options = BotOptions(
                name=b.bot_id, mode="demo", state_dir=self.config.work_dir / "state",
                base_url=markets.sims[b.market].base_url, heartbeat_s=self.config.heartbeat_s,
                redis_namespace=self.config.namespace, ccxt_pacing=False,
                initial_capital=INITIAL_BALANCE,
            )  # fmt: skip
            bot = Bot(self.settings, options)
            started = asyncio.Event()
            bot.on_started = lambda _run, ev=started: ev.set()
            task = asyncio.create_task(bot.run(), name=f"demo-{b.bot_id}")
            self._bots.append((b, bot, task))
            waiter = asyncio.create_task(started.wait())
            done, _ = await asyncio.wait({task, waiter}, timeout=60,
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                waiter.cancel()
                if task in done:
                    task.result()  # raises the bot's own error
                raise RuntimeError(f"{b.bot_id} did not start within 60 s")

    async def _replay(self, markets: DemoMarkets, ingest: Ingest) -> int:
        """Step the clock to the end; returns the steps some bot did not finish in time."""
        late = 0
        shown = 0.0
        symbols = {b.bot_id: sorted(bot.strategy().symbols) for b, bot, _ in self._bots}
        while not markets.done:
            markets.step()
            for b, bot, task in self._bots:
                run = bot.run_info
                assert run is not None
                due = markets.last_close_ms(b.market, symbols[b.bot_id])
                if due <= markets.start_ms:
                    continue
                if not await _until(partial(_settled, run, due, task), STEP_TIMEOUT_S):
                    late += 1
                    log.warning("%s: step to %s not settled within %.0f s; replay goes on",
                                b.bot_id, markets.now(), STEP_TIMEOUT_S)
                if task.done():
                    task.result()  # a bot that died stops the demo with its error
                    raise RuntimeError(f"{b.bot_id} stopped during the replay")
            now = time.monotonic()
            if now - shown >= 0.1:
                shown = now
                self._show("replaying", markets, ingest)
        self._show("replayed", markets, ingest)
        return late

    async def _settle(self, store: LedgerStore) -> None:
        """Wait until the ledger holds every execution each bot saw on its private stream."""
        seen = {b.bot_id: {f.exec_id for f in bot.run_info.engine.fills}
                for b, bot, _ in self._bots if bot.run_info is not None}  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        for bot_id, ids in seen.items():
            while True:
                stored = {f.exec_id for f in await store.read_fills(bot_id=bot_id)}
                if ids <= stored:
                    break
                if loop.time() > deadline:
                    raise RuntimeError(f"{bot_id}: {len(ids - stored)} fills the bot saw are "
                                       f"not in the ledger after {SETTLE_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.05)

    async def _stop_bots(self) -> list[BotRun]:
        for _, bot, _ in self._bots:
            bot.stop()
        runs = []
        for _, _, task in self._bots:
            runs.append(await asyncio.wait_for(task, 30))
        return runs

    async def _cancel_bots(self) -> None:
        for _, bot, task in self._bots:
            if not task.done():
                bot.stop()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _sync(self, specs: Sequence[AccountSpec], state: MemoryState | RedisState,
                    store: LedgerStore, trips: RoundTripStore,
                    period: tuple[datetime, datetime],
                    markets: DemoMarkets) -> list[AccountTotals]:
        """``alphadesk sync backfill`` over the replayed period, through a recorder of its own:
        every execution is the listener's already, so it adds nothing."""
        status = await open_sync_status(self.config.database_url)
        spool = DiskSpool(self.config.work_dir / "sync-spool")
        rests: list[BybitRest] = []
        try:
            recorder = FillRecorder(FillWriter(store), spool, bus=state.bus,
                                    positions=state.positions, markets=state.market,
                                    alerts=state.bus, trades=RoundTripKeeper(store, trips))
            accounts = []
            for spec in specs:
                rest = BybitRest(spec.config, policy=RetryPolicy(max_attempts=12))
                rests.append(rest)
                await rest.sync_clock()
                history = History(rest, default_bot=spec.default_bot)
                accounts.append(SyncAccount(spec.default_bot, SyncHistory(history, rest)))
            syncer = Syncer(recorder, status, clock=markets.now, round_trips=trips)
            return await syncer.backfill(accounts, *period)
        finally:
            for rest in rests:
                await rest.close()
            spool.close()
            await status.close()

    async def _reconcile(self, specs: Sequence[AccountSpec], store: LedgerStore,
                         period: tuple[datetime, datetime],
                         markets: DemoMarkets) -> list[Report]:
        """``alphadesk reconcile`` over the replayed period, read-only."""
        url = self.config.database_url
        writer = FillWriter(store)
        reports = []
        for spec in specs:
            client = await BybitClient.connect(spec.config, trading=False)
            try:
                reconciler = Reconciler(
                    VENUE, BybitAccountView(client), writer, spec.bots, clock=markets.now,
                    ledger_orders=lambda account: open_orders(url, VENUE, account),
                )  # fmt: skip
                reports.append(await reconciler.run(*period))
            finally:
                await client.close()
        return reports


def _at(ms: int) -> datetime:
    return from_epoch_ms("demo.clock", ms)
