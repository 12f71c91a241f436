"""A self-contained HTML report of a backtest: the console's tables, the parameters and settings,
an equity/drawdown chart, a candlestick chart per symbol with the trades and the strategy's
indicators, and the trade list with fees, funding, return and holding time.

Self-contained means one file that loads nothing: the chart library (TradingView Lightweight
Charts, vendored in ``assets/`` with its licence and source) and the drawing script are inlined,
the chart data sits in a JSON script element, and there is no font, stylesheet or image from
anywhere else. It opens the same offline, as a mail attachment or as a CI artefact. The tables'
cells are the strings :mod:`.tables` builds with :mod:`.formatting`, the same the console prints.
What the charts draw and how long series are thinned is in :mod:`.chart_data`.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from alphadesk.backtest import chart_data, tables
from alphadesk.backtest import formatting as fmt
from alphadesk.backtest.result import BacktestResult, to_dict

MAX_TRADE_ROWS = 1_000
CHART_HEIGHT = 420
CANDLE_HEIGHT = 460
PANE_HEIGHT = 115
LIBRARY = "lightweight-charts.standalone.production.js"

STYLE = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d2733;
background:#f6f7f9}
main{max-width:1400px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px}
h3{font-size:14px;margin:18px 0 4px}
p.sub,p.note{color:#5b6673;font-size:12px;margin:4px 0}
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 14px;margin:10px 0}
.grid{display:grid;grid-template-columns:minmax(320px,1fr) minmax(320px,1fr);gap:14px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
.chart{width:100%;position:relative}
.legend{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#333;min-height:16px;
margin:2px 0 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px;width:100%}
caption{text-align:left;font-weight:600;font-size:13px;padding:4px 0}
th,td{padding:3px 8px;border-bottom:1px solid #eceff2;white-space:nowrap}
thead th{background:#f0f2f5;border-bottom:1px solid #cfd5dc;text-align:left;position:sticky;top:0}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;border-top:2px solid #cfd5dc}
td.neg{color:#b3261e}td.pos{color:#1b6e20}
tbody tr:hover{background:#f7f9fb}
"""

RESULT_WORDS = ("PnL", "return", "Return", "Share of equity", "change", "Gross", "Net")
"""Columns whose negative values are losses (drawn red); fees and funding are costs, not
results, and a negative funding is money received."""


@cache
def _asset(name: str) -> str:
    return resources.files("alphadesk.backtest").joinpath("assets", name).read_text("utf-8")


def _cell(text: str, numeric: bool, signed: bool) -> str:
    cls = "num" if numeric else ""
    if signed and text.startswith("-") and text != fmt.MISSING:
        cls += " neg"
    attr = f' class="{cls.strip()}"' if cls.strip() else ""
    return f"<td{attr}>{escape(text)}</td>"


def table_html(table: tables.Table) -> str:
    cols = table.columns
    signed = [c.numeric and any(w in c.title for w in RESULT_WORDS) for c in cols]
    head = "".join(
        f'<th{" class=num" if c.numeric else ""}>{escape(c.title)}</th>' for c in cols
    )

    def row(cells: tuple[str, ...]) -> str:
        return "<tr>" + "".join(
            _cell(text, c.numeric, s) for text, c, s in zip(cells, cols, signed, strict=True)
        ) + "</tr>"

    body = "".join(row(r) for r in table.rows)
    foot = f"<tfoot>{row(table.total)}</tfoot>" if table.total is not None else ""
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<div class="scroll"><table id="table-{table.key}"><caption>{escape(table.title)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table></div>{note}"
    )


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no ``</`` can close it early)."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return text.replace("</", "<\\/")


def _interval(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _candle_sections(candles: dict[str, Any]) -> str:
    parts = []
    for n, c in enumerate(candles["charts"]):
        trades = sum(1 for m in c["markers"] if m["entry"])
        shown = _interval(c["shown_minutes"])
        bars = _interval(c["bar_minutes"])
        thinned = (
            f"; drawn as {shown} candles from {fmt.count(c['bars'])} {bars} bars to keep the "
            "report small (the trade list has exact times)"
            if c["shown_minutes"] != c["bar_minutes"] else f"; {bars} candles"
        )
        drawn = ", ".join(f"{k} = {v}" for k, v in c["specs"].items()) or "none"
        height = CANDLE_HEIGHT + PANE_HEIGHT * len(c["panes"])
        parts.append(
            f'<div class="card"><h3>{escape(c["symbol"])}</h3><p class="sub">{trades} trades'
            f"{escape(thinned)}. Indicators: {escape(drawn)}. Arrows are entries (up long, "
            "down short), circles exits; hover a candle for its trades and values. Scroll to "
            f'zoom, drag to pan.</p><div class="legend" id="candles-legend-{n}"></div>'
            f'<div class="chart" id="candles-{n}" style="height:{height}px"></div></div>'
        )
    if candles["omitted"]:
        parts.append(
            f'<p class="note">Not charted (fewest trades; see the tables): '
            f'{escape(", ".join(candles["omitted"]))}</p>'
        )
    return "".join(parts)


def _refusals(result: BacktestResult) -> str:
    """A card of the refused orders, only when there were any."""
    refused = tables.refusals(result)
    if refused is None:
        return ""
    return f'<h2>Refused orders</h2><div class="card">{table_html(refused)}</div>'


def to_html(result: BacktestResult) -> str:
    data = to_dict(result)
    equity = chart_data.equity_points(result)
    candles = chart_data.candle_charts(result)
    points, kept = equity["downsampled"]
    curve_note = (
        f"All {fmt.count(points)} bar closes."
        if points == kept
        else f"{fmt.count(kept)} of {fmt.count(points)} bar closes: each of "
        f"{fmt.count(chart_data.MAX_CURVE_POINTS)} slices keeps its first point, highest and "
        "lowest equity and deepest drawdown, so peaks and the max drawdown are exact."
    )
    m = result.metrics
    headline = (
        f"Net PnL {fmt.money(m.net_pnl)} USDT ({fmt.percent(m.return_pct)} %), "
        f"max drawdown {fmt.fraction_pct(m.drawdown.max_pct)} %, "
        f"{fmt.count(m.trades.count)} trades"
    )
    summary = tables.summary(result)
    start = fmt.timestamp(int(result.output.data.timeline[0]))
    end = fmt.timestamp(int(result.output.data.close_times[-1]))
    title = f"{data['strategy']} backtest, {start} to {end} UTC"
    payload = {"equity": equity, "candles": candles}
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">{escape(headline)}. Symbols: {escape(", ".join(data["symbols"]))}.</p>'
        '<div class="grid"><div class="card">'
        f"{table_html(summary)}</div><div class=\"card\">"
        f"{table_html(tables.parameters(result))}"
        f"{table_html(tables.settings(data['settings']))}</div></div>"
        '<h2>Equity and drawdown</h2><div class="card">'
        '<div class="legend" id="equity-legend"></div>'
        f'<div class="chart" id="equity-chart" style="height:{CHART_HEIGHT}px"></div>'
        f'<p class="note">{escape(curve_note)} Drawdown is from the running peak of equity '
        "(open positions marked at each close). Scroll to zoom, drag to pan.</p></div>"
        '<h2>Results</h2><div class="card">'
        f"{table_html(tables.by_symbol(result))}{table_html(tables.by_exit_reason(result))}"
        f"{table_html(tables.by_month(result))}</div>"
        f"{_refusals(result)}"
        f"<h2>Price and trades</h2>{_candle_sections(candles)}"
        f'<h2>Trade list</h2><div class="card">'
        f"{table_html(tables.trades(result, MAX_TRADE_ROWS))}</div>"
        f'<script type="application/json" id="report-data">{_script_json(payload)}</script>'
        f"<script>{_asset(LIBRARY)}</script><script>{_asset('report.js')}</script>"
        "</main></body></html>\n"
    )
