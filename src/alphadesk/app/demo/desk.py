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

This module wires the run; the bots, their accounts and settings are :mod:`.roster`, starting and
stepping them :mod:`.fleet`, the closing sync and reconcile :mod:`.closing`, and what the run
shows and returns :mod:`.outcome`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, Environment, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec, account_bots
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
from alphadesk.adapters.storage.order_records import open_records
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.watermarks import FileWatermarks
from alphadesk.analytics.desk import summarize
from alphadesk.app.demo.closing import reconcile_accounts, sync_accounts
from alphadesk.app.demo.fleet import DemoFleet
from alphadesk.app.demo.market import MARKETS, DemoMarkets, common_start, load_market
from alphadesk.app.demo.outcome import BotLive, DemoOutcome, Progress, Snapshot
from alphadesk.app.demo.roster import (
    DEMO_BOTS,
    DEMO_RATE_LIMITS,
    DemoConfig,
    demo_accounts,
    demo_settings,
)
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.listener.service import Listener
from alphadesk.simulator import Simulator
from alphadesk.simulator.candles import CandleSeries


class DemoDesk:
    def __init__(self, config: DemoConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.accounts = demo_accounts(config.seed)
        self.loaded = [(spec, load_market(spec)) for spec in MARKETS]
        self.settings = demo_settings(config, self.accounts, self.loaded)
        self.snapshot = Snapshot("starting")
        self.fleet = DemoFleet(self.settings, config)

    # -- display ---------------------------------------------------------------------------------

    def _show(self, phase: str, markets: DemoMarkets | None = None,
              ingest: Ingest | None = None) -> None:
        snap = self.snapshot
        snap.phase = phase
        if markets is not None:
            snap.clock, snap.steps, snap.bars = markets.now(), markets.steps, markets.bars
        if ingest is not None:
            snap.recorded = ingest.stats.inserted
        for live, (_, bot, _) in zip(snap.bots, self.fleet.bots, strict=False):  # started so far
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
            await self.fleet.start(markets, partial(self._show, markets=markets))
            late = await self.fleet.replay(markets, partial(self._show, markets=markets,
                                                            ingest=ingest))
            self._show("waiting for the listener to record every fill", markets, ingest)
            await self.fleet.settle(store)
            self._show("stopping the bots (positions stay open)", markets, ingest)
            await self.fleet.stop()
        finally:
            if listener_open:
                await listener.close()
            await self.fleet.cancel()
        listener_open = False
        self._show("syncing each account's history", markets, ingest)
        period = (_at(markets.start_ms) - timedelta(hours=1), markets.now() + timedelta(hours=1))
        synced = await sync_accounts(config.database_url, work / "sync-spool", specs, state, store,
                                     trips, period, markets.now)
        self._show("reconciling the ledger with each venue", markets, ingest)
        reports = await reconcile_accounts(config.database_url, specs, store, period, markets.now)
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


def _at(ms: int) -> datetime:
    return from_epoch_ms("demo.clock", ms)
