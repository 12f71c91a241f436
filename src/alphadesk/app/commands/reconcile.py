"""``alphadesk reconcile [--bot NAME] [--repair]``: the ledger against Bybit, one by one.

For each configured bot with an API key (or only ``--bot``), its account's positions (size, side,
average price), open orders, executions of the last ``--days`` days missing on either side, and
each closed episode's round-trip PnL against Bybit's closed PnL are compared
(:mod:`alphadesk.engine.reconcile`). Differences are printed as a table; the exit status is 0 when
there are none, 1 when there are, 2 on bad input. Nothing is written unless ``--repair`` is
given: then missing executions are recorded through the one entrance (the fill recorder) and a
bot whose position the ledger still cannot explain is put into REDUCING (its kill-switch file in
``--state-dir`` and ``trading.bots.status``), with an alert. A running bot picks the state up
when it restarts, or at once when ``REDIS_URL`` is set: the repair then also sends it a
``reduce`` command on ``commands:{bot_id}`` (audited in ``trading.control_audit``).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alphadesk.app import settings as desk_settings
from alphadesk.app.commands import checks

EXIT_EQUAL, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reconcile", help="compare the ledger with Bybit (positions, orders, fills, PnL)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--bot", default=None, help="only this bot (id or strategy name)")
    parser.add_argument("--repair", action="store_true",
                        help="record missing fills and set unexplained bots REDUCING")
    parser.add_argument("--days", type=float, default=7.0,
                        help="how far back executions and closed PnL are compared (default 7)")
    parser.add_argument("--since", default=None,
                        help="compare from this UTC time (ISO 8601) instead of --days back")
    parser.add_argument("--until", default=None,
                        help="compare up to this UTC time (default: the venue's now)")
    parser.add_argument("--database-url", default=None,
                        help="ledger URL (default: $DATABASE_URL)")
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace of the desk (default: none, the seed's names)")
    parser.add_argument("--state-dir", default="state",
                        help="where bots keep their kill-switch files (default ./state)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = desk_settings.load()
    checks.positive("--days", args.days)
    since, until = _time("--since", args.since), _time("--until", args.until)
    if since is not None and until is not None and until < since:
        raise desk_settings.SettingsError(f"--until={args.until!r}: is before --since")
    args.since, args.until = since, until
    if args.bot is not None:
        bots = [settings.bot(args.bot)]
        if not bots[0].has_credentials:
            prefix = bots[0].strategy.upper()
            raise desk_settings.SettingsError(
                f"--bot {args.bot}: no API key (set {prefix}_BYBIT_API_KEY and "
                f"{prefix}_BYBIT_API_SECRET)"
            )
    else:
        bots = [b for b in settings.bots if b.has_credentials]
        if not bots:
            raise desk_settings.SettingsError(
                "no bot has an API key (set <STRATEGY>_BYBIT_API_KEY and _SECRET)"
            )
    url = checks.database(args.database_url, "--database-url", settings)
    checks.output_folder("--state-dir", Path(args.state_dir))
    return asyncio.run(_run(settings, bots, url, args))


def _time(flag: str, raw: str | None) -> datetime | None:
    """An ISO 8601 time; without an offset it is read as UTC."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise desk_settings.SettingsError(
            f"{flag}={raw!r}: not an ISO 8601 time (e.g. 2025-10-01T00:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _run(
    settings: desk_settings.Settings,
    bots: list[desk_settings.BotSettings],
    url: str,
    args: argparse.Namespace,
) -> int:
    from alphadesk.adapters.bybit import BybitClient
    from alphadesk.adapters.bybit.parse import VENUE
    from alphadesk.adapters.bybit.reconcile_view import BybitAccountView
    from alphadesk.adapters.memory import MemoryState
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.storage.bots import open_bots
    from alphadesk.adapters.storage.order_reads import open_orders
    from alphadesk.adapters.storage.round_trips import open_round_trips
    from alphadesk.adapters.storage.stores import open_store
    from alphadesk.app.listener import accounts_from_settings
    from alphadesk.domain.checks import from_epoch_ms
    from alphadesk.engine.ledger import FillWriter
    from alphadesk.engine.reconcile import Reconciler, Report
    from alphadesk.engine.recorder import FillRecorder
    from alphadesk.engine.round_trips import RoundTripKeeper

    wanted = {b.bot_id for b in bots}
    specs = [s for s in accounts_from_settings(settings) if wanted & set(s.bots)]
    store = await open_store(url)
    registry = await open_bots(url)
    state: MemoryState | RedisState = MemoryState()
    if args.repair and settings.redis_url:
        state = RedisState.from_url(settings.redis_url, namespace=args.namespace)
    writer = FillWriter(store)
    trips = await open_round_trips(url)
    recorder = FillRecorder(writer, bus=state.bus, positions=state.positions,
                            markets=state.market, alerts=state.bus,
                            trades=RoundTripKeeper(store, trips))  # fmt: skip
    audit = None
    if args.repair and settings.redis_url:
        from alphadesk.adapters.storage.control_audit import open_audit

        audit = await open_audit(url)
    reducer = _Reducer(Path(args.state_dir), registry, commands=state.bus if audit else None,
                       audit=audit)  # fmt: skip
    reports: list[Report] = []
    try:
        for spec in specs:
            client = await BybitClient.connect(spec.config, trading=False)
            try:
                end = args.until or from_epoch_ms("venue clock", client.rest.clock.now_ms())
                start = args.since or end - timedelta(days=args.days)
                reconciler = Reconciler(
                    VENUE, BybitAccountView(client), writer, spec.bots,
                    recorder=recorder if args.repair else None,
                    reducer=reducer if args.repair else None, alerts=state.bus,
                    ledger_orders=lambda account: open_orders(url, VENUE, account),
                )  # fmt: skip
                reports.append(await reconciler.run(start, end, repair=args.repair))
            finally:
                await client.close()
    finally:
        if audit is not None:
            await audit.close()
        await state.aclose()
        await trips.close()
        await registry.close()
        await store.close()
    return _print(reports, repair=args.repair, sent=reducer.sent)


class _Reducer:
    """REDUCING where a bot keeps it: the kill switch's file (read at the bot's start) and
    ``trading.bots.status`` (restored from when the file is missing); with Redis, also a
    ``reduce`` command on ``commands:{bot_id}`` (audited), so a running bot takes it now."""

    def __init__(
        self, state_dir: Path, registry: Any, *, commands: Any = None, audit: Any = None
    ) -> None:
        self._dir = state_dir
        self._registry = registry
        self._commands = commands
        self._audit = audit
        self.sent: list[str] = []

    async def set_state(self, bot_id: str, state: Any, reason: str) -> None:
        from alphadesk.adapters.storage.risk_state import FileStateStore
        from alphadesk.domain.checks import to_epoch_ms
        from alphadesk.engine.bot_registry import status_for
        from alphadesk.engine.clock import utc_now
        from alphadesk.engine.trading_state import KillSwitch, worst

        switch = KillSwitch(f"bot:{bot_id}", FileStateStore(self._dir / f"{bot_id}.risk.json"))
        target = worst(switch.state, state)  # only ever escalates: a HALTED bot stays halted
        if target is not switch.state:
            switch.command(target, to_epoch_ms(utc_now()), reason)
        await self._registry.set_status(bot_id, status_for(target))
        if self._commands is not None:
            await self._send(bot_id, reason)

    async def _send(self, bot_id: str, reason: str) -> None:
        import uuid

        from alphadesk.domain.commands import CommandKind, ControlCommand
        from alphadesk.engine.clock import utc_now
        from alphadesk.engine.control_ports import AuditEntry

        command = ControlCommand(uuid.uuid4().hex, bot_id, CommandKind.REDUCE, "reconcile",
                                 utc_now(), reason[:200])  # fmt: skip
        await self._audit.record(AuditEntry(command.id, command.at, command.actor, bot_id,
                                            command.kind.value, "published",
                                            {"reason": command.reason}))  # fmt: skip
        await self._commands.commands(bot_id).publish([command])
        self.sent.append(bot_id)


def _print(reports: list[Any], *, repair: bool, sent: Sequence[str] = ()) -> int:
    """One table per account with differences; after a repair, what is still different.
    Returns 1 when anything is (still) different."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    different = False
    for report in reports:
        if not report.differences:
            console.print(f"{report.account}: ledger and venue agree")
            continue
        _table(console, Table, f"{report.account}: {len(report.differences)} differences",
               report.differences)
        if not repair:
            different = True
            continue
        if report.repaired:
            console.print(f"{report.account}: recorded {len(report.repaired)} missing fills "
                          "through the fill recorder")
        for bot in report.reduced:
            console.print(f"{report.account}: {bot} set REDUCING (position not explained; a "
                          "HALTED bot stays halted), alert raised")
            if bot in sent:
                console.print(f"{report.account}: {bot} sent a reduce command on "
                              f"commands:{bot} (a running bot applies it now)")
        if report.after:
            different = True
            _table(console, Table, f"{report.account}: still different after the repair",
                   report.after)
        else:
            console.print(f"{report.account}: ledger and venue agree after the repair")
    return EXIT_DIFFERENT if different else EXIT_EQUAL


def _table(console: Any, table_type: Any, title: str, rows: Any) -> None:
    table = table_type(title=title, title_justify="left")
    for column in ("kind", "symbol", "ref", "ledger", "venue"):
        table.add_column(column)
    for d in rows:
        table.add_row(d.kind.value, d.symbol, d.ref, d.ledger, d.venue)
    console.print(table)
