"""``alphadesk control ...``: the control facade from a terminal, the same answers Telegram gives.

Reads: ``status``, ``positions``, ``balances``, ``analytics``, ``performance``, ``pnl
daily|weekly|monthly``, ``trades``, ``health``, ``reconcile`` (read-only: it never repairs;
``alphadesk reconcile --repair`` does) and ``audit`` (the commands logged in the ledger); each
takes ``--bot`` (an id, or a strategy name when one bot runs it) or answers for the whole desk.
Commands: ``halt BOT`` (no new positions, exits still managed), ``resume BOT`` and
``flatten BOT --yes`` (the bot closes its own positions); each is audited in
``trading.control_audit`` with the actor ``cli:<user>`` and reaches the bot through
``commands:{bot_id}`` (Redis when ``REDIS_URL`` is set; a bot that is down applies it when it
starts). Every figure comes from the ledger and the live state (:mod:`alphadesk.engine.control`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk.app.commands.trades import held

READS = ("status", "positions", "balances", "analytics", "performance", "trades", "health",
         "reconcile", "audit")  # fmt: skip
COMMANDS = ("halt", "resume", "flatten")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "control", help="the desk's status, figures and commands (halt/resume/flatten)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="control_action", metavar="ACTION")
    actions.required = True
    for name in READS:
        action = actions.add_parser(name, help=f"the desk's {name}")
        _common(action)
        if name != "health":
            action.add_argument("--bot", default=None, help="one bot (id or strategy name)")
        if name in ("trades", "audit"):
            action.add_argument("-n", type=_count, default=10, dest="rows",
                                help="how many, newest first (default 10)")  # fmt: skip
        action.set_defaults(handler=handle, what=name)
    pnl = actions.add_parser("pnl", help="PnL per day, week or month from the round trips")
    pnl.add_argument("period", choices=("daily", "weekly", "monthly"))
    pnl.add_argument("--bot", default=None, help="one bot (id or strategy name)")
    pnl.add_argument("--rows", type=_count, default=7, help="how many periods (default 7)")
    _common(pnl)
    pnl.set_defaults(handler=handle, what="pnl")
    for name in COMMANDS:
        action = actions.add_parser(name, help=f"{name} one bot")
        action.add_argument("bot", help="bot id or strategy name")
        if name == "flatten":
            action.add_argument("--yes", action="store_true",
                                help="confirm: the bot closes every open position")  # fmt: skip
        _common(action)
        action.set_defaults(handler=handle, what=name)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None, help="ledger URL (default: $DATABASE_URL)")
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace of the desk (default: none, the seed's names)")
    parser.add_argument("--health-file", type=Path, default=Path("listener-health.json"),
                        help="the listener's health snapshot (default ./listener-health.json)")


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer in [1, 1000]")
    return int(text)


def handle(args: argparse.Namespace) -> int:
    from alphadesk.app import settings as desk_settings
    from alphadesk.app.commands import checks

    settings = desk_settings.load()
    if args.what == "flatten" and not args.yes:
        print(f"control: flatten {args.bot} closes every open position of the bot; "
              "run again with --yes to confirm")  # fmt: skip
        return 2
    url = checks.database(args.database_url, "--database-url", settings)
    checks.redis(settings)
    return asyncio.run(_run(settings, url, args))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (KeyError, OSError):
        return "cli:unknown"


async def _run(settings: Any, url: str, args: argparse.Namespace) -> int:
    from alphadesk.app.control import open_control

    async with open_control(settings, database_url=url, namespace=args.namespace,
                            health_file=args.health_file) as control:  # fmt: skip
        what = args.what
        if what in COMMANDS:
            receipt = await getattr(control, what)(args.bot, _actor())
            where = (
                "applies it now"
                if receipt.bot_alive
                else "is not running: it applies it when it starts"
            )
            print(f"control: {what} {receipt.bot_id} published (command {receipt.id}, by "
                  f"{receipt.actor}); the bot {where}")  # fmt: skip
            return 0
        print("\n".join(await _read(control, what, args)))
        return 0


async def _read(control: Any, what: str, args: argparse.Namespace) -> list[str]:
    bot = getattr(args, "bot", None)
    if what == "status":
        return _status(await control.status(bot))
    if what == "positions":
        return _positions(await control.positions(bot))
    if what == "balances":
        return _balances(await control.balances(bot))
    if what == "analytics":
        return _analytics(await control.analytics(bot))
    if what == "performance":
        return _performance(await control.performance(bot))
    if what == "pnl":
        return _pnl(await control.pnl_table(args.period, bot, args.rows))
    if what == "trades":
        return _trades(await control.trades(bot, args.rows))
    if what == "health":
        return _health(await control.health())
    if what == "reconcile":
        return _reconcile(await control.reconcile(bot))
    return _audit(await control.audit_log(bot, args.rows))


# -- rendering: plain aligned text, numbers exact ------------------------------------------------


def money(value: Decimal | None) -> str:
    """Exact, plain notation, no trailing zeros; at most 8 decimals (a computed average)."""
    if value is None:
        return "-"
    shown = value.quantize(Decimal("1e-8")) if -value.as_tuple().exponent > 8 else value  # type: ignore[operator]
    return format(shown.normalize(), "f")


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], right: set[str]) -> list[str]:
    grid = [tuple(columns), *[tuple(r) for r in rows]]
    widths = [max(len(row[i]) for row in grid) for i in range(len(columns))]
    out = []
    for row in grid:
        cells = (c.rjust(w) if name in right else c.ljust(w)
                 for c, w, name in zip(row, widths, columns, strict=True))  # fmt: skip
        out.append("  ".join(cells).rstrip())
    return out


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else held(int(seconds))


def _status(view: Any) -> list[str]:
    rows = [(b.bot_id, b.mode, b.status, "yes" if b.alive else "no", _age(b.heartbeat_age_s),
             str(b.open_positions), money(b.equity),
             f"{b.sync.last_sync:%Y-%m-%d %H:%M}" if b.sync.last_sync else "-",
             str(b.sync.recent_errors)) for b in view.bots]  # fmt: skip
    out = table(("bot", "mode", "state", "alive", "heartbeat", "open", "equity", "last sync",
                 "sync errors"), rows, {"heartbeat", "open", "equity", "sync errors"})  # fmt: skip
    out.append(f"desk: {len(view.bots)} bots, {view.alive} alive, {view.total_open_positions} "
               f"open positions, equity {money(view.total_equity)}")  # fmt: skip
    out.append(_listener_line(view.listener))
    return out


def _listener_line(listener: Any) -> str:
    if listener is None:
        return "listener: no health snapshot (not running here)"
    verdict = "healthy" if listener.healthy else "UNHEALTHY: " + "; ".join(listener.problems)
    return (f"listener: {verdict} (snapshot {_age(listener.age_s)} old, spool "
            f"{listener.spool_depth}, dead letters {listener.dead_letters})")  # fmt: skip


def _positions(views: Any) -> list[str]:
    if not views:
        return ["no open positions"]
    rows = [(p.bot_id, p.symbol, "long" if p.side.sign > 0 else "short", money(p.size),
             money(p.avg_price), money(p.mark_price), money(p.unrealized_pnl),
             money(p.notional), p.source) for p in views]  # fmt: skip
    total = sum((p.unrealized_pnl for p in views), Decimal(0))
    return [*table(("bot", "symbol", "side", "size", "entry", "mark", "uPnL", "notional",
                    "from"), rows, {"size", "entry", "mark", "uPnL", "notional"}),
            f"total unrealized PnL {money(total)}"]  # fmt: skip


def _balances(view: Any) -> list[str]:
    rows = [(b.bot_id, money(b.equity), money(b.wallet_balance), money(b.available_balance),
             money(b.unrealized_pnl), f"{b.at:%Y-%m-%d %H:%M:%S}" if b.at else "-", b.source)
            for b in view.bots]  # fmt: skip
    return [*table(("bot", "equity", "wallet", "available", "uPnL", "as of", "from"), rows,
                   {"equity", "wallet", "available", "uPnL"}),
            f"total equity {money(view.total_equity)}, available "
            f"{money(view.total_available_balance)}"]  # fmt: skip


def _pct(fraction: Decimal) -> str:
    return f"{fraction * 100:.1f}%"


def _analytics(view: Any) -> list[str]:
    out = [f"total fills {view.total_fills}, volume {money(view.total_volume)} USDT, "
           f"win rate {_pct(view.win_rate)} ({view.wins}/{view.round_trips} round trips), "
           f"net PnL {money(view.net_pnl)}, fees {money(view.fees)}", "by strategy:"]  # fmt: skip
    rows = [(s.bot_id, s.strategy, str(s.fills), money(s.volume), str(s.round_trips),
             money(s.net_pnl)) for s in view.by_strategy]  # fmt: skip
    out += table(("bot", "strategy", "fills", "volume", "round trips", "net PnL"), rows,
                 {"fills", "volume", "round trips", "net PnL"})  # fmt: skip
    out.append("top symbols:")
    out += table(("symbol", "fills", "volume"),
                 [(s.symbol, str(s.fills), money(s.volume)) for s in view.top_symbols],
                 {"fills", "volume"})  # fmt: skip
    return out


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _performance(view: Any) -> list[str]:
    who = view.bot or "desk"
    m = view.metrics
    if m is None:
        return [f"{who}: nothing to score yet (no fills)"]
    t = m.trades
    return [
        f"{who}: equity {money(m.initial_equity)} -> {money(m.final_equity)} "
        f"(net {money(m.net_pnl)}, {m.return_pct:.2f}%), curve from {view.curve_source} "
        f"({len(view.curve)} points)",
        f"round trips {t.count}: win rate {_pct(t.win_rate)}, profit factor "
        f"{'-' if t.profit_factor is None else f'{t.profit_factor:.2f}'}, expectancy "
        f"{money(t.expectancy.quantize(Decimal('0.0001')))}, best {money(t.best)}, worst "
        f"{money(t.worst)}",
        f"max drawdown {m.drawdown.max_pct * 100:.2f}%, Sharpe {_ratio(m.sharpe)}, Sortino "
        f"{_ratio(m.sortino)}, Calmar {_ratio(m.calmar)}, exposure {_pct(m.exposure)}",
        f"fees {money(m.costs.fees)}, funding {money(m.costs.funding)}, traded "
        f"{money(m.costs.traded_notional)} USDT in {m.costs.fill_count} fills",
    ]


def _pnl(view: Any) -> list[str]:
    rows = [(f"{r.start:%Y-%m-%d}", str(r.trades), f"{r.wins}/{r.losses}", money(r.gross_pnl),
             money(r.fees), money(r.funding), money(r.net_pnl)) for r in view.rows]  # fmt: skip
    t = view.total
    rows.append(("total", str(t.trades), f"{t.wins}/{t.losses}", money(t.gross_pnl),
                 money(t.fees), money(t.funding), money(t.net_pnl)))  # fmt: skip
    head = f"{view.period} PnL of {view.bot or 'the desk'} (UTC, from the round trips)"
    return [head, *table((view.period.removesuffix("ly").replace("dai", "day"), "trades", "W/L",
                          "gross", "fees", "funding", "net"), rows,
                         {"trades", "W/L", "gross", "fees", "funding", "net"})]  # fmt: skip


def _trades(views: Any) -> list[str]:
    if not views:
        return ["no round trips"]
    rows = [(f"{t.exit_time:%Y-%m-%d %H:%M:%S}", t.bot_id, t.symbol,
             "long" if t.side.sign > 0 else "short", money(t.qty), money(t.entry_price),
             money(t.exit_price), money(t.fees), money(t.funding), money(t.net_pnl),
             held(t.holding_seconds), t.exit_reason or "-") for t in views]  # fmt: skip
    return table(("exit time", "bot", "symbol", "side", "qty", "entry", "exit", "fees",
                  "funding", "net", "held", "exit reason"), rows,
                 {"qty", "entry", "exit", "fees", "funding", "net", "held"})  # fmt: skip


def _health(view: Any) -> list[str]:
    out = [("healthy" if view.healthy else "UNHEALTHY") + (": " + "; ".join(view.problems)
                                                           if view.problems else "")]  # fmt: skip
    out.append(_listener_line(view.listener))
    if view.listener is not None:
        for a in view.listener.accounts:
            out.append(f"  {a.account}: {'connected' if a.connected else 'DISCONNECTED'}, last "
                       f"message {_age(a.last_message_age_s)} ago, gap-fill failures "
                       f"{a.gap_fill_failures}")  # fmt: skip
    out.append(f"spool {view.spool_depth} fills, dead letters {view.dead_letters}")
    out.append("bus: ok" if view.bus_ok else f"bus: UNREACHABLE ({view.bus_error})")
    for q in view.commands:
        out.append(f"  commands:{q.bot_id}: {q.length} entries, {q.pending} unacknowledged")
    for bot_id, sync in view.sync:
        last = f"{sync.last_sync:%Y-%m-%d %H:%M}" if sync.last_sync else "never"
        out.append(f"sync {bot_id}: last {last}, errors {sync.recent_errors}")
    return out


def _reconcile(view: Any) -> list[str]:
    if not view.available:
        return [f"reconcile: {view.note}"]
    if not view.differences:
        return [f"reconcile: ledger and venue agree ({', '.join(view.accounts)}); read-only"]
    rows = [(d.account, d.kind, d.symbol, d.ref, d.ledger, d.venue) for d in view.differences]
    head = (f"reconcile: {len(view.differences)} differences (read-only: nothing repaired; "
            "`alphadesk reconcile --repair` records missing fills)")  # fmt: skip
    return [head, *table(("account", "kind", "symbol", "ref", "ledger", "venue"), rows, set())]


def _audit(lines: Any) -> list[str]:
    if not lines:
        return ["no commands audited"]
    rows = [(f"{a.at:%Y-%m-%d %H:%M:%S}", a.actor, a.bot_id, a.command, a.outcome,
             f"{a.applied_at:%H:%M:%S}" if a.applied_at else "-") for a in lines]  # fmt: skip
    return table(("at", "actor", "bot", "command", "outcome", "applied"), rows, set())
