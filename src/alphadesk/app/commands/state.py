"""``alphadesk state rebuild``: make the live positions in Redis equal the ledger's.

Redis is a cache of the ledger; after an outage, a flush or a doubt, this folds every fill in
``DATABASE_URL`` per bot and symbol and atomically replaces each bot's ``position:*`` keys.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("state", help="live state (Redis) maintenance")
    actions = parser.add_subparsers(dest="state_action", metavar="ACTION")
    actions.required = True
    rebuild = actions.add_parser("rebuild", help="rebuild Redis positions from the ledger")
    rebuild.add_argument("--bot", action="append", default=None,
                         help="only this bot (repeatable; default: every bot in the ledger)")
    rebuild.add_argument("--namespace", default="",
                         help="Redis key namespace of the desk (default: none, the seed's names)")
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(args: argparse.Namespace) -> int:
    return asyncio.run(_rebuild(args.bot, args.namespace))


async def _rebuild(bots: list[str] | None, namespace: str) -> int:
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.app import settings as app_settings
    from alphadesk.app.commands import checks
    from alphadesk.engine.announcer import rebuild_positions
    from alphadesk.engine.ledger import FillWriter

    try:
        settings = app_settings.load()
    except app_settings.SettingsError as exc:
        print(f"state: {exc}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("state: REDIS_URL is not set; in-process state needs no rebuild",
              file=sys.stderr)
        return 2
    await checks.database_async(None, "DATABASE_URL", settings)
    await checks.redis_async(settings)
    store = await open_store(settings.database_url)
    state = RedisState.from_url(settings.redis_url, namespace=namespace)
    try:
        written = await rebuild_positions(FillWriter(store), state.positions, bot_ids=bots)
    finally:
        await state.aclose()
        await store.close()
    for bot_id, count in sorted(written.items()):
        print(f"state: {bot_id}: {count} positions rebuilt")
    if not written:
        print("state: the ledger has no fills; nothing rebuilt")
    return 0
