"""``alphadesk sync``: each bot's Bybit history into the ledger, through the one fill entrance.

``backfill --months N`` walks every bot's execution list (trades and funding) and closed PnL over
the last N months in 7-day windows, with the bot's own key; a window done is a completed row of
``trading.sync_status``, so a stopped backfill (SIGKILL included) carries on where it stopped.
``run`` syncs from each bot's cursor to now (``--every 10m`` repeats until stopped). ``status``
prints, per bot, the last sync, the period covered, rows added, errors and recent rows.
Bots sharing an API key share one account: it is synced once, under the first bot's id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphadesk.app import observability

if TYPE_CHECKING:
    from alphadesk.adapters.bybit.rest import BybitRest
    from alphadesk.adapters.metrics import DeskMetrics
    from alphadesk.app.settings import Settings
    from alphadesk.engine.ports import RoundTripStore
    from alphadesk.engine.recorder import FillRecorder
    from alphadesk.engine.sync import AccountTotals, SyncAccount, SyncStatusStore

DEFAULT_SPOOL_DIR = Path("sync-spool")
#: A sync is a background job: it waits out a long 10006 storm rather than fail a window.
SYNC_RETRY_ATTEMPTS = 12
_EVERY = re.compile(r"^(\d+)([smh])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync", help="sync each bot's Bybit trade history into the ledger",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    actions = parser.add_subparsers(dest="sync_action", metavar="ACTION")
    actions.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bot", default=None, help="only this bot (default: every bot with keys)")
    common.add_argument("--spool-dir", type=Path, default=DEFAULT_SPOOL_DIR,
                        help="where fills wait while the database is down")
    common.add_argument("--namespace", default="", help="Redis key namespace of the desk")
    backfill = actions.add_parser("backfill", parents=[common],
                                  help="walk the last N months (resumable)")
    backfill.add_argument("--months", type=int, required=True, help="how far back (1..24)")
    backfill.set_defaults(handler=run_backfill)
    run = actions.add_parser("run", parents=[common], help="from each bot's cursor to now")
    run.add_argument("--every", default=None, metavar="DURATION",
                     help="repeat at this interval until stopped (e.g. 10m, 30s, 1h)")
    observability.add_flag(run)
    run.set_defaults(handler=run_incremental)
    status = actions.add_parser("status", help="per bot: last sync, period, rows, errors")
    status.add_argument("--bot", default=None)
    status.add_argument("--limit", type=int, default=5, help="recent rows per bot (default 5)")
    status.set_defaults(handler=run_status)


def parse_every(value: str) -> float:
    """``10m`` → 600.0 seconds; a clear error naming the flag otherwise."""
    match = _EVERY.match(value.strip())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"--every: {value!r} is not a duration like 30s, 10m or 1h")
    return float(int(match.group(1)) * _UNIT_S[match.group(2)])


def months_back(now: datetime, months: int) -> datetime:
    """``now`` less ``months`` calendar months (the day clamped to the month's length)."""
    if isinstance(months, bool) or not 1 <= months <= 24:
        raise ValueError(f"--months: {months!r} must be 1..24 (Bybit keeps two years)")
    total = now.year * 12 + now.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in range(now.day, 27, -1):
        with contextlib.suppress(ValueError):
            return now.replace(year=year, month=month, day=day)
    return now.replace(year=year, month=month, day=min(now.day, 28))


def run_backfill(args: argparse.Namespace) -> int:
    months_back(datetime(2000, 1, 1, tzinfo=UTC), args.months)  # checked before any connection
    return asyncio.run(_backfill(args))


def run_incremental(args: argparse.Namespace) -> int:
    every = parse_every(args.every) if args.every else None
    observability.port(args, _settings())  # a bad --metrics-port stops it before any work
    try:
        return asyncio.run(_incremental(args, every))
    except KeyboardInterrupt:
        return 130


def run_status(args: argparse.Namespace) -> int:
    if args.limit <= 0:
        raise ValueError(f"--limit: {args.limit!r} must be > 0")
    return asyncio.run(_status(args))


@dataclass
class _Desk:
    recorder: FillRecorder
    status: SyncStatusStore
    accounts: list[SyncAccount]
    rests: list[BybitRest]
    trips: RoundTripStore


def _settings() -> Settings:
    from alphadesk.app import settings as app_settings

    return app_settings.load()


@contextlib.asynccontextmanager
async def _desk(args: argparse.Namespace) -> AsyncIterator[_Desk]:
    """Everything a sync needs, opened in order and closed in reverse."""
    from alphadesk.adapters.bybit.history import History, SyncHistory
    from alphadesk.adapters.bybit.rest import BybitRest, RetryPolicy
    from alphadesk.adapters.memory import MemoryState
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.spool import DiskSpool
    from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
    from alphadesk.adapters.storage.bots import open_bots
    from alphadesk.adapters.storage.round_trips import open_round_trips
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.adapters.storage.sync_status import open_sync_status
    from alphadesk.app.commands import checks
    from alphadesk.app.listener import accounts_from_settings
    from alphadesk.engine.bot_registry import BotRecord
    from alphadesk.engine.ledger import FillWriter
    from alphadesk.engine.recorder import FillRecorder
    from alphadesk.engine.round_trips import RoundTripKeeper
    from alphadesk.engine.sync import SyncAccount

    SYNC_RETRY = RetryPolicy(max_attempts=SYNC_RETRY_ATTEMPTS)  # noqa: N806
    settings = _settings()
    specs = accounts_from_settings(settings)
    if args.bot is not None:
        wanted = settings.bot(args.bot).bot_id  # a bot id or its strategy; unknown: clear error
        specs = [s for s in specs if wanted in s.bots]
    if not specs:
        raise ValueError("--bot: no bot with API keys to sync (set e.g. "
                         "SHORTSELLER_BYBIT_API_KEY and SHORTSELLER_BYBIT_API_SECRET)")
    await checks.database_async(None, "DATABASE_URL", settings)
    await checks.redis_async(settings)
    async with contextlib.AsyncExitStack() as stack:
        store = await open_store(settings.database_url)
        stack.push_async_callback(store.close)
        status = await open_sync_status(settings.database_url)
        stack.push_async_callback(status.close)
        bots = await open_bots(settings.database_url)
        stack.push_async_callback(bots.close)
        mode = settings.bybit_environment
        for spec in specs:  # sync_status rows name a registered bot
            if await bots.get(spec.default_bot) is None:
                strategy = settings.bot(spec.default_bot).strategy
                await bots.register(BotRecord(spec.default_bot, spec.default_bot, strategy,
                                              strategy, "stopped", mode, Decimal(0)))
        spool = DiskSpool(args.spool_dir)
        stack.callback(spool.close)
        state: MemoryState | RedisState = MemoryState()
        if settings.redis_url:
            state = RedisState.from_url(settings.redis_url, namespace=args.namespace)
            stack.push_async_callback(state.aclose)
        trips = await open_round_trips(settings.database_url)
        stack.push_async_callback(trips.close)
        recorder = FillRecorder(FillWriter(store), spool, bus=state.bus,
                                positions=state.positions, markets=state.market,
                                alerts=state.bus,
                                dead_letters=JsonlDeadLetters.beside(args.spool_dir),
                                trades=RoundTripKeeper(store, trips))  # round trips as it records
        accounts: list[SyncAccount] = []
        rests: list[BybitRest] = []
        for spec in specs:
            rest = BybitRest(spec.config, policy=SYNC_RETRY)
            # Paced by Bybit's own per-endpoint limit headers (the client's RateLimitGate, and
            # the 10006 back-off), not by ccxt's one 10/s bucket per key for every endpoint:
            # executions and closed PnL have separate limits, and each is read one request at
            # a time per account.
            rest.exchange.enableRateLimit = False
            stack.push_async_callback(rest.close)
            await rest.sync_clock()
            rests.append(rest)
            history = History(rest, default_bot=spec.default_bot)
            accounts.append(SyncAccount(spec.default_bot, SyncHistory(history, rest)))
        yield _Desk(recorder, status, accounts, rests, trips)


def _venue_now(desk: _Desk) -> datetime:
    from alphadesk.domain.checks import from_epoch_ms

    return from_epoch_ms("venue clock", desk.rests[0].clock.now_ms())


def _report(totals: Sequence[AccountTotals]) -> int:
    failed = 0
    for t in totals:
        period = (f"{t.start:%Y-%m-%d %H:%M}..{t.end:%Y-%m-%d %H:%M}"
                  if t.start and t.end else "-")
        line = (f"sync {t.bot_id}: {period}: {t.windows_done} windows read, "
                f"{t.windows_skipped} already done, {t.fetched} executions, "
                f"+{t.added} rows, {t.closed_pnl} closed-pnl records "
                f"({t.pnl_matched} set beside round trips, {t.pnl_unmatched} unmatched)")
        if t.errors:
            failed += 1
            line += f"; FAILED: {t.errors[-1]}"
        print(line, flush=True)
    return 1 if failed else 0


async def _backfill(args: argparse.Namespace) -> int:
    from alphadesk.app.sync_progress import SyncDisplay
    from alphadesk.engine.sync import Syncer

    async with _desk(args) as desk:
        now = _venue_now(desk)
        start = months_back(now, args.months)
        sources = {a.bot_id: a.source for a in desk.accounts}
        with SyncDisplay(sources) as display:
            syncer = Syncer(desk.recorder, desk.status, progress=display,
                            clock=lambda: _venue_now(desk), round_trips=desk.trips)
            totals = await syncer.backfill(desk.accounts, start, now)
        return _report(totals)


async def _incremental(args: argparse.Namespace, every: float | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return await scheduled(args, every, stop)


async def scheduled(args: argparse.Namespace, every: float | None, stop: asyncio.Event) -> int:
    """One sync now, then one per ``every`` seconds until ``stop`` is set (``alphadesk run``
    shares its stop with every part)."""
    async with _desk(args) as desk:
        metrics = _metrics(desk)
        async with observability.serving(metrics, args, _settings()):
            return await _passes(desk, metrics, every, stop)


async def _passes(desk: _Desk, metrics: DeskMetrics, every: float | None,
                  stop: asyncio.Event) -> int:
    from alphadesk.app.sync_progress import SyncDisplay
    from alphadesk.engine.sync import Syncer

    code = 0
    while True:
        sources = {a.bot_id: a.source for a in desk.accounts}
        with SyncDisplay(sources) as display:
            syncer = Syncer(desk.recorder, desk.status, progress=display,
                            clock=lambda: _venue_now(desk), round_trips=desk.trips)
            code = _report(await syncer.incremental(desk.accounts))
        metrics.sync_pass_done(time.time())
        if every is None:
            return code
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return code


def _metrics(desk: _Desk) -> DeskMetrics:
    """The sync service's page: fills it wrote, and each account's REST calls and waits."""
    from alphadesk.adapters.metrics import DeskMetrics

    metrics = DeskMetrics("sync")
    metrics.observe_ingest(desk.recorder.stats, lambda: desk.recorder.spooled)
    metrics.observe_rest({a.bot_id: r.stats for a, r in zip(desk.accounts, desk.rests,
                                                             strict=True)})
    return metrics


async def _status(args: argparse.Namespace) -> int:
    from alphadesk.adapters.storage.sync_status import open_sync_status
    from alphadesk.app.commands import checks

    settings = _settings()
    names = ([settings.bot(args.bot).bot_id] if args.bot
             else [b.bot_id for b in settings.bots if b.has_credentials])
    await checks.database_async(None, "DATABASE_URL", settings)
    status = await open_sync_status(settings.database_url)
    try:
        for name in names:
            rows = await status.recent(name, 10_000)
            if not rows:
                print(f"{name}: never synced")
                continue
            done = [r for r in rows if r.status == "completed"]
            errors = [r for r in rows if r.status in ("failed", "partial")]
            last = max((r.sync_completed_at or r.sync_started_at) for r in rows)
            period = (f"{min(r.start_time for r in done):%Y-%m-%d %H:%M}.."
                      f"{max(r.end_time for r in done):%Y-%m-%d %H:%M}" if done else "-")
            print(f"{name}: last sync {last:%Y-%m-%d %H:%M:%S} UTC, covered {period}, "
                  f"rows added {sum(r.trades_synced for r in done)}, errors {len(errors)}")
            for r in rows[: args.limit]:
                error = f"  {r.error_message}" if r.error_message else ""
                print(f"  {r.sync_started_at:%Y-%m-%d %H:%M:%S} {r.sync_type:<8} "
                      f"{r.start_time:%Y-%m-%d %H:%M}..{r.end_time:%Y-%m-%d %H:%M} "
                      f"{r.status:<9} +{r.trades_synced}{error}")
    finally:
        await status.close()
    return 0

