"""What the demo prints at the end, and its HTML report, both from the ledger's rows.

The text follows the seed's ``/analytics`` layout (total fills, volume, win rate, by strategy, top
symbols), then the listener's, the sync's and the reconcile's results and where things are. The
HTML page is self-contained (no script, no network): the same figures, a cumulative net-PnL chart
per bot from its round trips, and each bot's latest round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from alphadesk.analytics.desk import BotFigures, DeskSummary
from alphadesk.app.demo.outcome import DemoOutcome

WIDTH, HEIGHT, PAD = 900, 220, 40
TRADE_ROWS = 50
COLOURS = ("#1f5fa8", "#d9534f", "#2e8b57", "#8e44ad")


def _money(value: Decimal) -> str:
    return f"{value:+,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"


def bot_line(b: BotFigures) -> str:
    """One bot's figures; the test reads these lines back against the ledger."""
    return (f"{b.bot_id}: {b.fills:,} fills | volume {b.volume:,.2f} USDT | "
            f"{b.round_trips:,} round trips, win rate {_pct(b.win_rate)} | "
            f"net PnL {_money(b.net_pnl)} USDT | fees {b.fees:,.2f} | "
            f"funding {_money(b.funding)}")


def summary_lines(summary: DeskSummary) -> list[str]:
    lines = [
        "TRADING ANALYTICS (read back from the ledger)",
        f"Total Fills: {summary.fills:,}",
        f"Total Volume: {summary.volume:,.2f} USDT",
        f"Win Rate: {_pct(summary.win_rate)} ({summary.wins:,} of {summary.round_trips:,} "
        "round trips)",
        f"Net PnL (closed round trips): {_money(summary.net_pnl)} USDT",
        "By Strategy:",
    ]
    for i, b in enumerate(summary.bots):
        lines.append(("└─ " if i == len(summary.bots) - 1 else "├─ ") + bot_line(b))
    lines.append("Top Symbols:")
    for i, (symbol, count) in enumerate(summary.top_symbols):
        lines.append(("└─ " if i == len(summary.top_symbols) - 1 else "├─ ")
                     + f"{symbol}: {count:,} fills")
    return lines


def outcome_lines(outcome: DemoOutcome) -> list[str]:
    """The platform's own results: listener, sync, reconcile."""
    ingest = outcome.listener
    lines = [
        f"listener: {ingest.inserted:,} executions stored through the fill recorder, "
        f"{ingest.duplicates:,} duplicates dropped, {ingest.published:,} announced on "
        f"events:fills, {ingest.spooled:,} spooled, {ingest.dead_letters:,} dead letters",
    ]
    fetched = sum(t.fetched for t in outcome.sync)
    added = sum(t.added for t in outcome.sync)
    matched = sum(t.pnl_matched for t in outcome.sync)
    errors = [e for t in outcome.sync for e in t.errors]
    lines.append(
        f"sync: {fetched:,} executions read back from the venues, +{added:,} rows added "
        f"(the listener had every one), {matched:,} closed-PnL records set beside round trips"
        + (f"; ERRORS: {errors[-1]}" if errors else "")
    )
    accounts = len(outcome.reconcile)
    if outcome.differences == 0:
        lines.append(f"reconcile: 0 differences on {accounts} accounts (positions, open orders, "
                     "executions, round-trip PnL against the venue's closed PnL)")
    else:
        lines.append(f"reconcile: {outcome.differences} differences on {accounts} accounts:")
        for report in outcome.reconcile:
            for d in report.differences:
                lines.append(f"  {report.account} {d.kind.value} {d.symbol} {d.ref}: "
                             f"ledger {d.ledger} / venue {d.venue}")
    return lines


# -- HTML --------------------------------------------------------------------------------------


def _svg(series: Sequence[tuple[str, list[tuple[float, float]]]]) -> str:
    points = [p for _, pts in series for p in pts]
    if not points:
        return "<p>No round trip closed in the replayed period.</p>"
    t0, t1 = min(t for t, _ in points), max(t for t, _ in points)
    lo, hi = min(min(v for _, v in points), 0.0), max(max(v for _, v in points), 0.0)
    span_t, span_v = (t1 - t0) or 1.0, (hi - lo) or 1.0

    def xy(t: float, v: float) -> str:
        x = PAD + (t - t0) / span_t * (WIDTH - 2 * PAD)
        y = PAD / 2 + (hi - v) / span_v * (HEIGHT - PAD)
        return f"{x:.1f},{y:.1f}"

    paths = []
    for i, (name, pts) in enumerate(series):
        if not pts:
            continue
        colour = COLOURS[i % len(COLOURS)]
        d = " ".join(("M" if j == 0 else "L") + xy(t, v) for j, (t, v) in enumerate(pts))
        paths.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.3"/>'
                     f'<text x="{PAD + 180 * i}" y="{HEIGHT + 14}" font-size="12" '
                     f'fill="{colour}">{escape(name)}</text>')
    zero = PAD / 2 + hi / span_v * (HEIGHT - PAD)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 20}" '
            f'role="img" aria-label="cumulative net PnL per bot">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#999"/>'
            + "".join(paths) + "</svg>")


def _rows(rows: Sequence[Sequence[Any]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)


def to_html(outcome: DemoOutcome, ledger: str) -> str:
    summary = outcome.summary
    curves = []
    for b in summary.bots:
        trips = sorted((t for t in outcome.trips if t.bot_id == b.bot_id),
                       key=lambda t: t.exit_time)
        total, pts = Decimal(0), []
        for t in trips:
            total += t.net_pnl
            pts.append((t.exit_time.timestamp(), float(total)))
        curves.append((b.bot_id, pts))
    bots = _rows([(b.bot_id, f"{b.fills:,}", f"{b.volume:,.2f}", f"{b.round_trips:,}",
                   _pct(b.win_rate), _money(b.net_pnl), f"{b.fees:,.2f}", _money(b.funding))
                  for b in summary.bots])
    symbols = _rows(summary.top_symbols)
    trades = []
    for b in summary.bots:
        latest = sorted((t for t in outcome.trips if t.bot_id == b.bot_id),
                        key=lambda t: t.exit_time, reverse=True)[:TRADE_ROWS]
        rows = _rows([(f"{t.exit_time:%Y-%m-%d %H:%M}", t.symbol, t.entry_side.value, t.qty,
                       t.entry_price, t.exit_price, _money(t.net_pnl), t.exit_reason)
                      for t in latest])
        trades.append(f"<h3>{escape(b.bot_id)}: latest {len(latest)} round trips</h3>"
                      "<table><tr><th>exit</th><th>symbol</th><th>side</th><th>qty</th>"
                      "<th>entry</th><th>exit price</th><th>net</th><th>reason</th></tr>"
                      f"{rows}</table>")
    outcome_html = "".join(f"<li>{escape(line)}</li>" for line in outcome_lines(outcome))
    title = (f"AlphaDesk demo: {outcome.start:%Y-%m-%d %H:%M} to {outcome.end:%Y-%m-%d %H:%M} "
             "UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin-bottom:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}"
        "</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Ledger: {escape(ledger)}. {outcome.steps:,} clock steps, {outcome.bars:,} bars "
        "replayed on the local Bybit simulators.</p>"
        f"<p>Total fills {summary.fills:,}; volume {summary.volume:,.2f} USDT; win rate "
        f"{_pct(summary.win_rate)} of {summary.round_trips:,} round trips; net PnL "
        f"{_money(summary.net_pnl)} USDT.</p>"
        "<h2>By strategy</h2><table><tr><th>bot</th><th>fills</th><th>volume</th>"
        "<th>round trips</th><th>win rate</th><th>net PnL</th><th>fees</th><th>funding</th></tr>"
        f"{bots}</table>"
        "<h2>Cumulative net PnL of closed round trips</h2>" + _svg(curves)
        + "<h2>Top symbols</h2><table><tr><th>symbol</th><th>fills</th></tr>"
        f"{symbols}</table><h2>The platform</h2><ul>{outcome_html}</ul>"
        + "".join(trades) + "</body></html>\n"
    )
