"""One bot, composed from configuration: the only place that switches on the deployment mode
(the run of each mode is in :mod:`alphadesk.app.bot_paper` and :mod:`alphadesk.app.bot_bybit`;
this module keeps what every run shares: registration, heartbeat, commands and the end).

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

from alphadesk.adapters.bybit import BybitClient
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
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
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.instruments import Instrument
from alphadesk.engine.bot_registry import BotRecord, BotRegistry, state_of_status, status_for
from alphadesk.engine.command_inbox import CommandInbox
from alphadesk.engine.control_ports import AuditLog
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.live_driver import LiveDriver, QueuedGateway
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.recovery import Recovery
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.engine.runner import Engine
from alphadesk.engine.state_ports import BotStatusStore, CommandStreams
from alphadesk.engine.trading_state import TradingState
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
                from alphadesk.app.bot_paper import run_paper

                return await run_paper(self, writer, bots, recorder)
            from alphadesk.app.bot_bybit import run_bybit

            return await run_bybit(self, writer, bots)
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

    def engine_for(
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

    async def register(self, bots: BotRegistry, engine: Engine, capital: Decimal) -> Decimal:
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

    async def heartbeat(self, bots: BotRegistry, run: BotRun) -> None:
        status = ""
        while True:
            at = _now()
            await bots.heartbeat(self.bot_id, at, equity=run.engine.portfolio.equity)
            run.heartbeats.append(at)
            now_status = status_for(run.engine.risk.state)
            if now_status != status:
                await bots.set_status(self.bot_id, now_status)
            await self.live_status(at, now_status if now_status != status else None)
            status = now_status
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.stopping.wait(), timeout=self.options.heartbeat_s)
            if run.stopping.is_set():
                return

    async def live_status(self, at: datetime, status: str | None) -> None:
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

    async def finish(
        self, bots: BotRegistry, run: BotRun, heartbeat: asyncio.Task[None], now_ms: int,
        others: Sequence[asyncio.Task[Any]] = (),
    ) -> None:
        """End the run: the strategy stops, the heartbeat finishes its beat (never cancelled:
        see :attr:`BotRun.stopping`), ``others`` are cancelled, the bot is marked stopped."""
        run.engine.stop(now_ms)  # the strategy's on_stop: never flattens
        if run.commands is not None:
            await run.commands.close()
        await run.driver.close()
        run.stopping.set()
        for task in others:
            task.cancel()
        for task in (heartbeat, *others):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        at = _now()
        await bots.heartbeat(self.bot_id, at, equity=run.engine.portfolio.equity)
        await bots.set_status(self.bot_id, "stopped")
        await self.live_status(at, "stopped")

    async def command_inbox(self, bots: BotRegistry, run: BotRun) -> None:
        """Apply the commands that waited on ``commands:{bot_id}`` while the bot was down,
        before it trades; then keep applying them as they come (closed by :meth:`finish`)."""

        async def persist(state: TradingState) -> None:
            word = status_for(state)
            await bots.set_status(self.bot_id, word)
            await self.live_status(_now(), word)

        inbox = CommandInbox(
            run.engine, self._commands.commands(self.bot_id), persist=persist, audit=self._audit
        )
        run.commands = inbox
        await inbox.drain()
        inbox.start()

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Close this when the run ends (a price feed the mode opened)."""
        self._closers.append(closer)

    def started(self, run: BotRun) -> None:
        self.run_info = run
        if self.on_started is not None:
            self.on_started(run)
