"""The facade's views as Telegram replies: a head line and an aligned table. Pure.

Every figure is the view's own (from the ledger and the live state, through
:mod:`alphadesk.engine.control`); this module only formats: money to the cent with thousands
separators, prices and quantities exactly as stored, times in UTC, ages as ``12s``/``4m``/``3h``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from alphadesk.engine.control_views import (
    AnalyticsView,
    BalancesView,
    CommandReceipt,
    DeskStatus,
    HealthView,
    ListenerLine,
    PerformanceView,
    PnlTable,
    PositionView,
    ReconcileView,
    RoundTripView,
)

from .alert_lines import money
from .chart import equity_png
from .reply import Reply

DASH = "-"


def usd(value: Decimal | None) -> str:
    """Money to the cent: ``1,234.57``; ``-`` when unknown."""
    return DASH if value is None else f"{value:,.2f}"


def signed(value: Decimal) -> str:
    return f"{value:+,.2f}"


def pct(fraction: Decimal | float | None) -> str:
    return DASH if fraction is None else f"{float(fraction) * 100:.1f}%"


def age(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172_800:
        return f"{s // 3600}h"
    return f"{s // 86_400}d"


def when(at: datetime | None) -> str:
    return DASH if at is None else f"{at:%Y-%m-%d %H:%M}"


def held(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, left: int = 1) -> str:
    """Columns aligned; the first ``left`` columns left-aligned, the rest (figures) right."""
    body = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in body) for i in range(len(header))]
    lines = []
    for row in body:
        cells = [c.ljust(w) if i < left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def _scope(bot: str | None) -> str:
    return bot if bot else "desk"


# -- status, positions, balances -----------------------------------------------------------------

def status(view: DeskStatus) -> Reply:
    rows = []
    for b in view.bots:
        state = b.trading_state.value if b.trading_state is not None else b.status
        sync = "never" if b.sync.last_sync is None else when(b.sync.last_sync)
        if b.sync.recent_errors:
            sync += f" ({b.sync.recent_errors} err)"
        alive = "up" if b.alive else "down"
        rows.append((b.bot_id, b.mode, state, alive, age(b.heartbeat_age_s),
                     str(b.open_positions), usd(b.equity), sync))  # fmt: skip
    rows.append(("total", "", "", f"{view.alive}/{len(view.bots)}", "",
                 str(view.total_open_positions), usd(view.total_equity), ""))  # fmt: skip
    text = table(("bot", "mode", "state", "alive", "beat", "pos", "equity", "sync"), rows,
                 left=4)  # fmt: skip
    return Reply(f"Status at {when(view.at)} UTC", table=text + "\n" + _listener(view.listener))


def _listener(line: ListenerLine | None) -> str:
    if line is None:
        return "listener: no health snapshot (not running, or paper only)"
    verdict = "healthy" if line.healthy else "UNHEALTHY"
    accounts = ", ".join(f"{a.account} {'on' if a.connected else 'OFF'}" for a in line.accounts)
    text = (f"listener: {verdict} ({age(line.age_s)} ago); {accounts or 'no accounts'}; "
            f"spool {line.spool_depth}, dead letters {line.dead_letters}")  # fmt: skip
    if line.problems:
        text += "\n  " + "\n  ".join(line.problems)
    return text


def positions(found: Sequence[PositionView], bot: str | None) -> Reply:
    if not found:
        return Reply(f"No open positions ({_scope(bot)}).")
    rows = [(p.bot_id, p.symbol, "long" if p.side.sign > 0 else "short", money(p.size),
             money(p.avg_price), DASH if p.mark_price is None else money(p.mark_price),
             signed(p.unrealized_pnl), usd(p.notional)) for p in found]  # fmt: skip
    total_upnl = sum((p.unrealized_pnl for p in found), Decimal(0))
    total_notional = sum((p.notional for p in found), Decimal(0))
    rows.append(("total", "", "", "", "", "", signed(total_upnl), usd(total_notional)))
    text = table(("bot", "symbol", "side", "size", "entry", "mark", "uPnL", "notional"), rows,
                 left=3)  # fmt: skip
    return Reply(f"Open positions ({_scope(bot)}): {len(found)}", table=text)


def balances(view: BalancesView, bot: str | None) -> Reply:
    rows: list[tuple[str, ...]] = [
        (b.bot_id, usd(b.equity), usd(b.wallet_balance), usd(b.available_balance),
         usd(b.unrealized_pnl), str(b.source), when(b.at)) for b in view.bots]  # fmt: skip
    rows.append(("total", usd(view.total_equity), usd(view.total_wallet_balance),
                 usd(view.total_available_balance), usd(view.total_unrealized_pnl), "", ""))
    text = table(("bot", "equity", "wallet", "available", "uPnL", "from", "as of"), rows)
    return Reply(f"Balances ({_scope(bot)}), USDT", table=text)


# -- analytics, performance, tables, trades ------------------------------------------------------

def analytics(view: AnalyticsView, bot: str | None) -> Reply:
    head = (f"Analytics ({_scope(bot)})\n"
            f"Total fills: {view.total_fills}\n"
            f"Volume: {usd(view.total_volume)} USDT\n"
            f"Round trips: {view.round_trips} ({view.wins} won, {view.losses} lost)\n"
            f"Win rate: {pct(view.win_rate)}\n"
            f"Net PnL: {signed(view.net_pnl)} USDT, fees {usd(view.fees)}")  # fmt: skip
    by_strategy = table(("strategy", "bot", "fills", "volume", "trips", "net PnL"),
                        [(s.strategy, s.bot_id, str(s.fills), usd(s.volume), str(s.round_trips),
                          signed(s.net_pnl)) for s in view.by_strategy], left=2)  # fmt: skip
    symbols = table(("top symbol", "fills", "volume"),
                    [(s.symbol, str(s.fills), usd(s.volume)) for s in view.top_symbols])
    return Reply(head, table=f"{by_strategy}\n\n{symbols}")


def performance(view: PerformanceView) -> Reply:
    scope = _scope(view.bot)
    m = view.metrics
    if m is None:
        return Reply(f"Performance ({scope}): nothing to score yet (no fills).")
    t = m.trades
    rows = [
        ("equity", f"{usd(m.initial_equity)} -> {usd(m.final_equity)}"),
        ("net PnL", f"{signed(m.net_pnl)} ({m.return_pct:+.2f}%)"),
        ("round trips", f"{t.count} ({t.wins} won, {t.losses} lost)"),
        ("win rate", pct(t.win_rate)),
        ("profit factor", DASH if t.profit_factor is None else f"{t.profit_factor:.2f}"),
        ("expectancy", signed(t.expectancy)),
        ("best / worst", f"{signed(t.best)} / {signed(t.worst)}"),
        ("max drawdown", f"{pct(m.drawdown.max_pct)} ({m.drawdown.max_amount:,.2f})"),
        ("sharpe", _ratio(m.sharpe)),
        ("sortino", _ratio(m.sortino)),
        ("fees / funding", f"{usd(m.costs.fees)} / {usd(m.costs.funding)}"),
    ]  # fmt: skip
    photo = None
    if view.curve:
        points = [(p.at, p.equity) for p in view.curve]
        photo = equity_png(points, f"{scope} equity ({view.curve_source}), USDT")
    return Reply(f"Performance ({scope})", table=table(("metric", "value"), rows, left=2),
                 photo=photo)  # fmt: skip


def _ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def pnl_table(view: PnlTable) -> Reply:
    label = {"daily": "day", "weekly": "week of", "monthly": "month"}[view.period]

    def start(row_start: object) -> str:
        text = str(row_start)
        return text[:7] if view.period == "monthly" else text

    rows = [(start(r.start), str(r.trades), f"{r.wins}/{r.losses}", signed(r.gross_pnl),
             usd(r.fees), usd(r.funding), signed(r.net_pnl)) for r in view.rows]  # fmt: skip
    t = view.total
    rows.append(("total", str(t.trades), f"{t.wins}/{t.losses}", signed(t.gross_pnl),
                 usd(t.fees), usd(t.funding), signed(t.net_pnl)))  # fmt: skip
    text = table((label, "trips", "won/lost", "gross", "fees", "funding", "net"), rows)
    return Reply(f"{view.period.capitalize()} PnL ({_scope(view.bot)}), USDT", table=text)


def trades(found: Sequence[RoundTripView], bot: str | None) -> Reply:
    if not found:
        return Reply(f"No round trips yet ({_scope(bot)}).")
    rows = [(when(t.exit_time), t.bot_id, t.symbol, "long" if t.side.sign > 0 else "short",
             money(t.qty), money(t.entry_price), money(t.exit_price), signed(t.net_pnl),
             held(t.holding_seconds), t.exit_reason or DASH) for t in found]  # fmt: skip
    total = sum((t.net_pnl for t in found), Decimal(0))
    text = table(("exit", "bot", "symbol", "side", "qty", "entry", "exit px", "net", "held",
                  "reason"), rows, left=4)  # fmt: skip
    return Reply(f"Last {len(found)} round trips ({_scope(bot)}), net {signed(total)} USDT",
                 table=text)  # fmt: skip


# -- health, reconcile, commands -----------------------------------------------------------------

def health(view: HealthView) -> Reply:
    head = "Healthy" if view.healthy else "PROBLEMS"
    lines = [f"{head} at {when(view.at)} UTC"]
    lines += [f"- {p}" for p in view.problems]
    rows = [(bot, when(s.last_sync), when(s.covered_until), str(s.recent_errors))
            for bot, s in view.sync]  # fmt: skip
    text = _listener(view.listener) + "\n"
    text += f"spool {view.spool_depth}, dead letters {view.dead_letters}, bus "
    text += "ok" if view.bus_ok else f"DOWN ({view.bus_error})"
    if rows:
        text += "\n\n" + table(("sync", "last", "covered until", "errors"), rows)
    if view.commands:
        text += "\n\n" + table(("commands", "queued", "unacked"),
                               [(c.bot_id, str(c.length), str(c.pending))
                                for c in view.commands])  # fmt: skip
    return Reply("\n".join(lines), table=text)


def reconcile(view: ReconcileView, bot: str | None) -> Reply:
    scope = _scope(bot)
    if not view.available:
        return Reply(f"Reconcile ({scope}): not available: {view.note}")
    if not view.differences:
        return Reply(f"Reconcile ({scope}): the ledger and the exchange agree "
                     f"({', '.join(view.accounts) or 'no accounts'}). Nothing was changed.")
    rows = [(d.kind, d.account, d.symbol, d.ref, d.ledger, d.venue) for d in view.differences]
    text = table(("difference", "account", "symbol", "ref", "ledger", "exchange"), rows, left=4)
    return Reply(f"Reconcile ({scope}): {len(view.differences)} difference(s); read-only, "
                 "nothing was repaired (use `alphadesk reconcile --repair` on the desk).",
                 table=text)  # fmt: skip


def receipts(done: Sequence[CommandReceipt]) -> Reply:
    lines = []
    for r in done:
        state = "running, applies it now" if r.bot_alive else "not running: applies it on start"
        lines.append(f"{r.kind.value} sent to {r.bot_id} ({state}); command {r.id}")
    return Reply("\n".join(lines) or "no bots")
