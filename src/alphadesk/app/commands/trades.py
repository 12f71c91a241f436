"""``alphadesk trades rebuild|list``: the ledger's round trips (``trading.completed_trades``).

``rebuild`` recomputes FIFO round trips from the fills in ``DATABASE_URL`` (one bot with
``--bot``, else every bot) and replaces their ``ledger`` rows in one transaction; ``list`` prints
the newest ones as an aligned table. Recording keeps the table level as fills land (see
:mod:`alphadesk.engine.round_trips`); ``rebuild`` is for a doubt, a new rule or an old ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from decimal import Decimal
from typing import Any

from alphadesk.engine.ports import StoredRoundTrip

DEFAULT_ROWS = 20
COLUMNS = ("entry time", "exit time", "bot", "symbol", "side", "qty", "entry", "exit", "gross",
           "fees", "funding", "net", "held", "exit reason")  # fmt: skip
RIGHT = frozenset({"qty", "entry", "exit", "gross", "fees", "funding", "net", "held"})


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("trades", help="round trips from the ledger")
    actions = parser.add_subparsers(dest="trades_action", metavar="ACTION")
    actions.required = True
    rebuild = actions.add_parser("rebuild", help="recompute round trips from the ledger's fills")
    rebuild.add_argument("--bot", default=None, help="only this bot (default: every bot)")
    rebuild.set_defaults(handler=run_rebuild)
    listing = actions.add_parser("list", help="print the newest round trips")
    listing.add_argument("--bot", default=None, help="only this bot (default: every bot)")
    listing.add_argument("-n", type=_rows, default=DEFAULT_ROWS, dest="rows",
                         help=f"how many, newest first (default {DEFAULT_ROWS})")  # fmt: skip
    listing.set_defaults(handler=run_list)


def _rows(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"-n={text!r}: must be an integer in [1, 100000]")
    return int(text)


def run_rebuild(args: argparse.Namespace) -> int:
    return asyncio.run(_rebuild(args.bot))


def run_list(args: argparse.Namespace) -> int:
    return asyncio.run(_list(args.bot, args.rows))


async def _database_url() -> str | None:
    from alphadesk.app import settings as app_settings
    from alphadesk.app.commands import checks

    try:
        settings = app_settings.load()
    except app_settings.SettingsError as exc:
        print(f"trades: {exc}", file=sys.stderr)
        return None
    return await checks.database_async(None, "DATABASE_URL", settings)


async def _rebuild(bot_id: str | None) -> int:
    from alphadesk.adapters.storage.round_trips import open_round_trips
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.engine.round_trips import RoundTripKeeper

    url = await _database_url()
    if url is None:
        return 2
    store = await open_store(url)
    trips = await open_round_trips(url)

    def progress(done: int, total: int, key: tuple[str, str], found: int) -> None:
        print(f"\rtrades: matched {done}/{total} {key[0]}/{key[1]}: {found} round trips",
              end="", flush=True)  # fmt: skip

    try:
        result = await RoundTripKeeper(store, trips).rebuild(bot_id, progress=progress)
    finally:
        await trips.close()
        await store.close()
    if result.keys:
        print()
    who = f"bot {bot_id}" if bot_id else "every bot"
    print(f"trades: rebuilt {result.round_trips} round trips of {who} "
          f"from {result.fills} fills ({result.keys} bot/symbol keys)")  # fmt: skip
    return 0


async def _list(bot_id: str | None, limit: int) -> int:
    from alphadesk.adapters.storage.round_trips import open_round_trips

    url = await _database_url()
    if url is None:
        return 2
    trips = await open_round_trips(url)
    try:
        found = await trips.list_round_trips(bot_id=bot_id, limit=limit)
    finally:
        await trips.close()
    if not found:
        print("trades: no round trips" + (f" for bot {bot_id}" if bot_id else ""))
        return 0
    print(render(found))
    return 0


def held(seconds: int) -> str:
    """A holding time as ``3d04h05m`` / ``4h05m`` / ``5m07s`` / ``7s``."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _money(value: Decimal) -> str:
    """Exact, in plain notation, without trailing zeros (``100.10`` -> ``100.1``)."""
    return format(value.normalize(), "f")


def render(trips: list[StoredRoundTrip]) -> str:
    """The round trips as an aligned text table (numbers right-aligned), one per line."""
    table = [COLUMNS]
    for t in trips:
        table.append((
            f"{t.entry_time:%Y-%m-%d %H:%M:%S}", f"{t.exit_time:%Y-%m-%d %H:%M:%S}", t.bot_id,
            t.symbol, "long" if t.entry_side.sign > 0 else "short", _money(t.qty),
            _money(t.entry_price), _money(t.exit_price), _money(t.gross_pnl), _money(t.fees),
            _money(t.funding), _money(t.net_pnl), held(t.holding_seconds), t.exit_reason or "-",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = []
    for row in table:
        cells = (cell.rjust(w) if name in RIGHT else cell.ljust(w)
                 for cell, w, name in zip(row, widths, COLUMNS, strict=True))  # fmt: skip
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
