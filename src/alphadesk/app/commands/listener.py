"""``alphadesk listener``: record every fill of every trading account, exactly once.

Runs one authenticated private WebSocket per account that has keys in the settings
(``SHORTSELLER_BYBIT_API_KEY`` …), one public WebSocket for ``--symbols``, and the ledger at
``DATABASE_URL`` (migrate it first: ``alphadesk db upgrade``). Live state and the bus go to
``REDIS_URL`` when set, else stay in-process. ``--health`` reads the snapshot a running listener
writes to ``--health-file`` and exits 0 when it is healthy and fresh, 1 when not, 2 when absent:
a container health check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphadesk.app import observability

DEFAULT_HEALTH_FILE = Path("listener-health.json")
DEFAULT_SPOOL_DIR = Path("fill-spool")
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
STALE_AFTER_S = 30.0

log = logging.getLogger("alphadesk.listener")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "listener",
        help="record fills from every account's private WebSocket into the ledger",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--health", action="store_true",
                        help="print the running listener's health and exit 0 (ok) / 1 / 2")
    parser.add_argument("--health-file", type=Path, default=DEFAULT_HEALTH_FILE)
    parser.add_argument("--spool-dir", type=Path, default=DEFAULT_SPOOL_DIR,
                        help="where fills wait while the database is down")
    parser.add_argument("--symbols", nargs="*", default=list(DEFAULT_SYMBOLS),
                        help="public kline.5/tickers symbols (none: no public socket)")
    parser.add_argument("--gapfill-every", type=float, default=300.0, metavar="SECONDS",
                        help="also gap-fill every account this often (default 300)")
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace (default: none, the seed's key names)")
    observability.add_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.health:
        return health(args.health_file)
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 130


def health(path: Path, *, now: datetime | None = None) -> int:
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        print(f"listener: no health snapshot at {path} (is the listener running?)",
              file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"listener: unreadable health snapshot {path}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    at = datetime.fromisoformat(report["at"])
    age = ((now or datetime.now(UTC)) - at).total_seconds()
    if age > STALE_AFTER_S:
        print(f"listener: snapshot is {age:.0f} s old", file=sys.stderr)
        return 1
    return 0 if report.get("healthy") else 1


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return await serve(args, stop)


async def serve(args: argparse.Namespace, stop: asyncio.Event,
                started: asyncio.Event | None = None) -> int:
    """The listener until ``stop`` is set (``alphadesk run`` shares one stop with every part);
    ``started`` is set once every account's stream is up."""
    from alphadesk.adapters.bybit import AccountConfig, Environment
    from alphadesk.adapters.bybit.account_feed import account_bots
    from alphadesk.adapters.memory import MemoryState
    from alphadesk.adapters.metrics import DeskMetrics
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.spool import DiskSpool
    from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
    from alphadesk.adapters.storage.order_records import open_records
    from alphadesk.adapters.storage.round_trips import open_round_trips
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.adapters.storage.urls import parse
    from alphadesk.adapters.storage.watermarks import FileWatermarks
    from alphadesk.app import heap
    from alphadesk.app import settings as app_settings
    from alphadesk.app.commands import checks
    from alphadesk.app.listener import accounts_from_settings
    from alphadesk.engine.ingest import Ingest
    from alphadesk.engine.ledger import FillWriter
    from alphadesk.engine.round_trips import RoundTripKeeper
    from alphadesk.listener.service import Listener

    try:
        settings = app_settings.load()
        specs = accounts_from_settings(settings)
    except (app_settings.SettingsError, ValueError) as exc:
        print(f"listener: {exc}", file=sys.stderr)
        return 2
    if not specs:
        print("listener: no bot has API keys (set e.g. SHORTSELLER_BYBIT_API_KEY and "
              "SHORTSELLER_BYBIT_API_SECRET)", file=sys.stderr)
        return 2
    checks.positive("--gapfill-every", args.gapfill_every)
    metrics_port = observability.port(args, settings)  # a bad one stops it before any work
    await checks.database_async(None, "DATABASE_URL", settings)
    await checks.redis_async(settings)
    store = await open_store(settings.database_url)
    spool = DiskSpool(args.spool_dir)
    state: MemoryState | RedisState = MemoryState()
    if settings.redis_url:
        state = RedisState.from_url(settings.redis_url, namespace=args.namespace)
    records = await open_records(
        settings.database_url, {s.account: s.default_bot if len(s.bots) == 1 else s.account
                                for s in specs},
    )
    trips = await open_round_trips(settings.database_url)
    letters = JsonlDeadLetters.beside(args.spool_dir)
    ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,
                    markets=state.market, alerts=state.bus, orders=records, equity=records,
                    dead_letters=letters, account_bots=account_bots(specs),
                    mismatch_grace_s=10.0, db_retry_s=2.0)
    ingest.recorder.trades = RoundTripKeeper(store, trips)  # completed_trades as fills land
    metrics = DeskMetrics("listener") if metrics_port is not None else None  # off: no cost
    public = AccountConfig.public(environment=Environment(settings.bybit_environment),
                                  base_url=settings.bybit_base_url)
    listener = Listener(ingest, specs, symbols=args.symbols, public_config=public,
                        bus=state.bus, markets=state.market, health_file=args.health_file,
                        watermarks=FileWatermarks(args.spool_dir / "watermarks.json"),
                        gapfill_every_s=args.gapfill_every,
                        dead_letters=letters, observer=metrics)
    if metrics is not None:
        metrics.observe_ingest(ingest.stats, lambda: ingest.spool.depth().records)
        metrics.observe_health(listener.report)
        metrics.observe_rest({feed.spec.account: feed.rest.stats for feed in listener.feeds})
    stack = contextlib.AsyncExitStack()
    try:
        if metrics is not None:
            await stack.enter_async_context(observability.serving(metrics, args, settings))
        await listener.start()
        heap.settle()  # after start-up: its objects live as long as the process
        names = ", ".join(f"{s.account} ({', '.join(s.bots)})" for s in specs)
        print(f"listener: recording {names}", flush=True)
        log.info("recording %s into %s", names, parse(settings.database_url).redacted)
        if started is not None:
            started.set()
        await stop.wait()
    finally:
        await listener.close()
        await stack.aclose()
        spool.close()
        await records.close()
        await trips.close()
        await state.aclose()
        await store.close()
    return 0
