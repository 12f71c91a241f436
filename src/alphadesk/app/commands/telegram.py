"""``alphadesk telegram``: the desk's Telegram command bot (one bot for every trading bot).

Answers only the user ids in ``C2_TELEGRAM_ADMIN_IDS`` (anyone else gets nothing and leaves an
audit log line), with every figure from the control facade (the ledger at ``DATABASE_URL`` and
the live state at ``REDIS_URL``), and pushes ``events:alerts`` and ``events:fills`` to the admins,
batched and rate-limited. ``C2_TELEGRAM_API_URL`` points it at another Bot API server (a local
one, or a test's fake). Stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("alphadesk.telegram")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "telegram",
        help="the Telegram command bot: status, PnL, halt/resume/flatten, alerts",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace (default: none, the seed's key names)")
    parser.add_argument("--health-file", type=Path, default=Path("listener-health.json"),
                        help="the listener's health snapshot, for /status and /health")
    parser.add_argument("--poll-timeout", type=int, default=10, metavar="SECONDS",
                        help="getUpdates long-poll timeout (default 10)")
    parser.add_argument("--alert-interval", type=float, default=3.0, metavar="SECONDS",
                        help="least time between two alert messages (default 3)")
    parser.add_argument("--watch-every", type=float, default=15.0, metavar="SECONDS",
                        help="how often the desk's state is checked for kill switches, "
                             "listener outages and a growing spool (default 15)")
    parser.add_argument("--no-alerts", action="store_true",
                        help="answer commands only; push no alerts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 130


async def _serve(args: argparse.Namespace) -> int:
    from alphadesk.adapters.memory import MemoryState
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.telegram.batching import Batcher
    from alphadesk.adapters.telegram.bot import TelegramBot
    from alphadesk.adapters.telegram.mutes import Mutes
    from alphadesk.adapters.telegram.pump import AlertPump
    from alphadesk.app import logging as desk_logging
    from alphadesk.app import settings as app_settings
    from alphadesk.app.commands import checks

    try:
        settings = app_settings.load()
        app_settings.telegram_ready(settings)
    except app_settings.SettingsError as exc:
        print(f"telegram: {exc}", file=sys.stderr)
        return 2
    if args.poll_timeout < 0 or args.poll_timeout > 60:
        print(f"telegram: --poll-timeout={args.poll_timeout}: must be 0 to 60", file=sys.stderr)
        return 2
    checks.positive("--alert-interval", args.alert_interval)
    checks.positive("--watch-every", args.watch_every)
    await checks.database_async(None, "DATABASE_URL", settings)
    await checks.redis_async(settings)
    from alphadesk.adapters.telegram.responder import DeskResponder
    from alphadesk.app.control import open_control

    # httpx logs every request URL, and a Bot API URL holds the token: keep it to warnings
    logging.getLogger("httpx").setLevel(logging.WARNING)

    state: MemoryState | RedisState = MemoryState()
    if settings.redis_url:
        state = RedisState.from_url(settings.redis_url, namespace=args.namespace)
    else:
        log.warning("REDIS_URL is not set: alerts and commands stay in this process")
    mutes = Mutes()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with open_control(settings, namespace=args.namespace, state=state,
                                health_file=args.health_file) as control:
            bot = TelegramBot(
                settings.telegram_token, settings.telegram_api_url,
                settings.telegram_admin_ids, DeskResponder(control, mutes),
                secrets=desk_logging.secret_values(settings.secrets()),
            )  # fmt: skip
            pump = AlertPump(
                state.bus, Batcher(time.monotonic, min_interval_s=args.alert_interval),
                bot.send_to_admins, mutes, now=lambda: datetime.now(UTC),
                status=control.status, watch_every_s=args.watch_every,
            )  # fmt: skip
            async with asyncio.TaskGroup() as group:
                alerts = None if args.no_alerts else group.create_task(pump.run())
                print(f"telegram: answering {len(settings.telegram_admin_ids)} admin(s)",
                      flush=True)  # fmt: skip
                await bot.run(stop, poll_timeout_s=args.poll_timeout)
                if alerts is not None:
                    alerts.cancel()
    finally:
        await state.aclose()
    return 0
