"""A self-contained HTML report: metrics, an inline SVG equity/drawdown chart, the trades.

No script, no stylesheet or font from the network: the file opens the same offline, in a mail
attachment or a CI artefact.
"""

from __future__ import annotations

from html import escape
from typing import Any

from alphadesk.backtest.result import BacktestResult, curve_points, to_dict

WIDTH, HEIGHT, DD_HEIGHT, PAD = 900, 260, 110, 40
MAX_TRADE_ROWS = 1_000


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def chart_svg(result: BacktestResult) -> str:
    """Equity (top) and drawdown from the running peak (bottom), scaled to the run."""
    pts = curve_points(result)
    t0, t1 = pts[0][0], pts[-1][0]
    values = [v for _, v in pts]
    lo, hi = min(values), max(values)
    span_t = max(1, t1 - t0)
    span_v = (hi - lo) or 1.0
    peak = values[0]
    dds = []
    for v in values:
        peak = max(peak, v)
        dds.append((v - peak) / peak * 100 if peak > 0 else 0.0)
    worst = min(dds) or -1.0

    def x(t: int) -> float:
        return PAD + (t - t0) / span_t * (WIDTH - 2 * PAD)

    eq = [(x(t), PAD / 2 + (hi - v) / span_v * (HEIGHT - PAD)) for t, v in pts]
    top = HEIGHT + 10
    dd = [(x(t), top + d / worst * DD_HEIGHT) for (t, _), d in zip(pts, dds, strict=True)]
    dd_area = _path([(x(t0), top), *dd, (x(t1), top)]) + " Z"
    total_h = HEIGHT + DD_HEIGHT + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_h}" '
        f'viewBox="0 0 {WIDTH} {total_h}" role="img" aria-label="equity and drawdown">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="{PAD}" y="14" font-size="12">equity {hi:,.2f} max / {lo:,.2f} min</text>'
        f'<path d="{_path(eq)}" fill="none" stroke="#1f5fa8" stroke-width="1.2"/>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{top}" y2="{top}" stroke="#999"/>'
        f'<path d="{dd_area}" fill="#d9534f" fill-opacity="0.35" stroke="#d9534f"/>'
        f'<text x="{PAD}" y="{top + DD_HEIGHT + 16}" font-size="12">'
        f"drawdown, worst {worst:.2f} %</text></svg>"
    )


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(result: BacktestResult) -> str:
    data = to_dict(result)
    metrics = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
        for k, v in sorted(data["metrics"].items())
    )
    trades = data["trades"][:MAX_TRADE_ROWS]
    cols = [
        "symbol",
        "side",
        "qty",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "net_pnl",
        "exit_reason",
    ]
    title = f"{data['strategy']} backtest {data['start']} to {data['end']}"
    more = len(data["trades"]) - len(trades)
    note = f"<p>{more} more trades in the JSON output.</p>" if more > 0 else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}th{background:#f3f3f3}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Symbols: {escape(', '.join(data['symbols']))}; bars: {data['bars']}; "
        f"params: {escape(str(data['params']))}</p>"
        f"{chart_svg(result)}<h2>Metrics</h2><table>{metrics}</table>"
        f"<h2>Trades ({len(data['trades'])})</h2>{_table(trades, cols)}{note}"
        "</body></html>\n"
    )
