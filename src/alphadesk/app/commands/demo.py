"""``alphadesk demo``: the whole desk in one process, on embedded defaults, in a minute or two.

It starts local Bybit simulators replaying the bundled real candles (BTC/ETH/SOL at 5 minutes,
eight coins at 4 hours) on a simulated clock, the three bots (shortseller, lxalgo, momentum)
trading through the real Bybit adapter against them, each with its own key, and the listener
recording every fill through the one fill entrance into the demo's own ledger; state and the bus
stay in the process. At the end it syncs every account's history, reconciles the ledger with the
venues (zero differences expected), and prints the seed's analytics summary read back from the
ledger, and where the ledger and the HTML report are. No keys, no servers, no network.

The demo never touches the desk's books: its ledger is ``./alphadesk-demo.db`` (made anew on
every run, as its venues are), or the one ``--database-url`` names; ``DATABASE_URL`` and
``REDIS_URL`` are used only with ``--use-env`` (PostgreSQL through PgBouncer and Redis, as the
desk runs). A named ledger must not hold an earlier demo run's fills. Its bots have ids of their
own (``demo_shortseller``...), so a database shared on purpose keeps them apart from
``shortseller_001``'s. ``--quick`` gives the older backtest-style summary instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from alphadesk.app import settings as desk_settings
from alphadesk.app.commands import checks
from alphadesk.app.logging import HUMAN

#: The demo's ledger unless ``--database-url`` or ``--use-env`` says otherwise.
DEMO_DATABASE_URL = "sqlite:///./alphadesk-demo.db"
DEFAULT_REPORT_DIR = Path("alphadesk-demo-reports")
EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="the whole desk in one process on local simulators; no keys, no servers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url", default=None,
        help="the demo's ledger (default ./alphadesk-demo.db, made anew each run)",
    )  # fmt: skip
    parser.add_argument("--redis-url", default=None,
                        help="live state and bus in this Redis (default: in the process)")
    parser.add_argument("--use-env", action="store_true",
                        help="use DATABASE_URL and REDIS_URL (PostgreSQL via PgBouncer, Redis)")
    parser.add_argument("--namespace", default="", help="Redis key namespace (default: none)")
    parser.add_argument("--days", type=float, default=None,
                        help="replay only this many simulated days (default: every bundled bar)")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help=f"where the HTML report goes (default ./{DEFAULT_REPORT_DIR})")
    parser.add_argument("--seed", type=int, default=None,
                        help="the venues' id seed (default: from the clock)")
    parser.add_argument("--plain", action="store_true",
                        help="plain progress lines even on a terminal")
    parser.add_argument("--quick", action="store_true",
                        help="backtests instead of the platform: seconds, no venue or listener")
    parser.add_argument("--web", action="store_true",
                        help="then serve the dashboard over the demo's ledger until Ctrl-C "
                             "(login from ALPHADESK_WEB_ADMIN_PASSWORD or _TOKEN; prints its URL)")
    parser.add_argument("--web-port", type=int, default=None,
                        help="the dashboard's port with --web (default $ALPHADESK_WEB_PORT or "
                             "8765; 0: any free port)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="with --quick: candles from this folder (alphadesk data download) "
                             "instead of the bundled ones")
    parser.set_defaults(handler=handle, log_format=HUMAN)


def _urls(args: argparse.Namespace) -> tuple[str, str | None, bool]:
    """The ledger and Redis URLs, and whether the ledger is the demo's own default file."""
    config = desk_settings.load()
    database, redis = args.database_url, args.redis_url
    if args.use_env:
        if database is None and not os.environ.get("DATABASE_URL"):
            raise desk_settings.SettingsError(
                "--use-env: DATABASE_URL is not set (without it the demo keeps to its own file)")
        database = database or config.database_url
        redis = redis or config.redis_url
    if redis:
        try:
            checks.redis(desk_settings.Settings(redis_url=redis))
        except desk_settings.SettingsError as exc:
            if args.redis_url is None:
                raise
            raise desk_settings.SettingsError(
                str(exc).replace("REDIS_URL=", "--redis-url=", 1)) from None
    own = database is None
    flag = "--database-url" if args.database_url is not None or not args.use_env else "DATABASE_URL"
    url = checks.database(database or DEMO_DATABASE_URL, flag, config)  # parsed and reachable
    return url, redis, own


def handle(args: argparse.Namespace) -> int:
    if args.days is not None:
        checks.positive("--days", args.days)
    report_dir = args.report_dir if args.report_dir is not None else DEFAULT_REPORT_DIR
    if args.report_dir is not None:
        checks.output_folder("--report-dir", args.report_dir)
    if args.data_dir is not None:
        if not args.quick:
            raise desk_settings.SettingsError(
                "--data-dir: only with --quick (the platform demo replays the bundled markets)")
        if not args.data_dir.is_dir():
            raise desk_settings.SettingsError(f"--data-dir {str(args.data_dir)!r}: not a folder")
    web = None
    if args.web:  # checked before the run: a missing login is said now, not a minute later
        if args.quick:
            raise desk_settings.SettingsError("--web: not with --quick (no desk runs)")
        from alphadesk.web import config as web_config

        try:
            web = web_config.load(port=args.web_port)
        except web_config.WebSettingsError as exc:
            raise desk_settings.SettingsError(f"--web: {exc}") from None
    url, redis, own = _urls(args)
    if args.quick:
        from alphadesk.app.demo.quick import run_quick

        return run_quick(url, redis, args.namespace, args.report_dir, args.data_dir)
    code = _platform(args, url, redis, own, report_dir)
    if web is not None and code != EXIT_BAD_INPUT:
        _serve_dashboard(url, redis, web)
    return code


def _fresh_sqlite(url: str) -> None:
    """The default ledger is the demo's scratch: a new run's venues start empty, so must it."""
    from alphadesk.adapters.storage.urls import parse

    path = parse(url).sqlite_path
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


async def _earlier_run(url: str) -> str | None:
    """A demo bot that already has fills in this ledger, if any."""
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.app.demo.roster import DEMO_BOTS

    store = await open_store(url)
    try:
        for bot in DEMO_BOTS:
            if await store.read_fills(bot_id=bot.bot_id):
                return bot.bot_id
    finally:
        await store.close()
    return None


def _platform(args: argparse.Namespace, url: str, redis: str | None, own: bool,
              report_dir: Path) -> int:
    from alphadesk.adapters.storage import migrate
    from alphadesk.adapters.storage.urls import parse
    from alphadesk.app.demo.desk import DemoDesk
    from alphadesk.app.demo.progress import DemoDisplay
    from alphadesk.app.demo.report import outcome_lines, summary_lines, to_html
    from alphadesk.app.demo.roster import DemoConfig

    # the bots' own migration check (idempotent here) would log every revision line
    logging.getLogger("alembic").setLevel(logging.WARNING)
    target = parse(url)
    if own:
        _fresh_sqlite(url)
    applied = migrate.upgrade(url)
    if not own:
        taken = asyncio.run(_earlier_run(url))
        if taken is not None:
            print(f"demo: --database-url={target.redacted!r}: already holds an earlier demo "
                  f"run's fills ({taken}); the demo's venues start empty on every run, so it "
                  "needs a ledger without them (a fresh database, or the default file)",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
    print(f"demo ledger: {target.redacted} (the demo's own, apart from the desk's; "
          f"migrations applied now: {len(applied)})", flush=True)
    print(f"demo state and bus: {'Redis ' + _redacted_redis(redis) if redis else 'in process'}",
          flush=True)
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    began = time.monotonic()
    cpu = time.process_time()
    with tempfile.TemporaryDirectory(prefix="alphadesk-demo-") as work:
        config = DemoConfig(database_url=url, work_dir=Path(work), redis_url=redis,
                            namespace=args.namespace, days=args.days, seed=seed)
        with DemoDisplay(live=False if args.plain else None) as display:
            outcome = asyncio.run(DemoDesk(config, display).run())
    wall, cpu = time.monotonic() - began, time.process_time() - cpu
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / "index.html"
    report.write_text(to_html(outcome, target.redacted))
    print()
    print(f"replayed {outcome.start:%Y-%m-%d %H:%M} to {outcome.end:%Y-%m-%d %H:%M} UTC: "
          f"{outcome.steps:,} clock steps, {outcome.bars:,} bars, in {wall:.1f} s "
          f"(CPU {cpu:.1f} s)" + (f"; {outcome.late_steps} steps a bot was late for"
                                  if outcome.late_steps else ""))
    print()
    for line in summary_lines(outcome.summary):
        print(line)
    print()
    for line in outcome_lines(outcome):
        print(line)
    print(f"ledger: {target.redacted}")
    print(f"report: {report}")
    print("next: alphadesk trades list --bot demo_shortseller (with DATABASE_URL set to the "
          "ledger), alphadesk backtest --strategy ema_cross --data <csv> --report out.html")
    return EXIT_OK if outcome.differences == 0 else EXIT_DIFFERENT


def _serve_dashboard(url: str, redis: str | None, web: Any) -> None:
    """The dashboard over the ledger the demo wrote, until Ctrl-C or SIGTERM. The demo's bots
    have stopped: without Redis the dashboard refuses commands (nobody would read them)."""
    import signal

    from alphadesk.app.web_service import serve_web

    settings = replace(desk_settings.load(), database_url=url, redis_url=redis)

    async def serve() -> None:
        task = asyncio.create_task(serve_web(
            settings, web, database_url=url,
            on_ready=lambda where: print(f"dashboard: {where} (Ctrl-C to stop)", flush=True)))
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def _redacted_redis(url: str) -> str:
    from urllib.parse import urlsplit

    password = urlsplit(url).password
    return url.replace(password, "***") if password else url
