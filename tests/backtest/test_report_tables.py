"""One formatter, one set of tables: the console and the HTML report show the same strings, the
tables add up to the JSON, and the chart data keeps what the metrics report (the max drawdown)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from alphadesk.backtest import chart_data, console, tables
from alphadesk.backtest import formatting as fmt
from alphadesk.backtest.data import load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import BacktestResult, summarize, to_dict
from alphadesk.backtest.runner import run
from alphadesk.strategies import build

FILES = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]


@pytest.fixture(scope="module")
def result(market_csv: Callable[[str], Path]) -> BacktestResult:
    data = load([market_csv(f) for f in FILES], end_ms=1_760_486_400_000)  # to 2025-10-15
    return summarize(run(build("shortseller"), data))


def test_the_formatter_rounds_half_even_with_units_left_to_the_caller() -> None:
    assert fmt.money(Decimal("-1234.565")) == "-1,234.56"
    assert fmt.money(Decimal("1234.575")) == "1,234.58"
    assert fmt.money(-0.001) == "0.00"  # no "-0.00"
    assert fmt.fraction_pct(0.2934983) == "29.35"
    assert fmt.percent(Decimal("-14.775")) == "-14.78"
    assert fmt.ratio(None) == fmt.ratio(float("nan")) == "-"
    assert fmt.duration(93_784) == "1d 02:03"
    assert fmt.duration(59) == "00:01"
    assert fmt.timestamp(1_759_276_800_000) == "2025-10-01 00:00"
    assert fmt.exact(Decimal("0.0100")) == "0.01" and fmt.exact(Decimal("1E+2")) == "100"
    assert fmt.rounded(2.675) == 2.68 and str(fmt.rounded(-0.001)) == "0.0"  # as money() does


def test_tables_add_up_to_the_json(result: BacktestResult) -> None:
    data = to_dict(result)
    trades = data["trades"]
    net = sum(Decimal(t["net_pnl"]) for t in trades)
    fees = sum(Decimal(t["fees"]) for t in trades)
    by_symbol = tables.by_symbol(result)
    assert by_symbol.total is not None
    assert by_symbol.total[1] == fmt.count(len(trades))
    assert by_symbol.total[3] == fmt.money(net) and by_symbol.total[5] == fmt.money(fees)
    assert [r[0] for r in by_symbol.rows] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert sum(int(r[1]) for r in by_symbol.rows) == len(trades)
    for row in by_symbol.rows:
        mine = [t for t in trades if t["symbol"] == row[0]]
        assert row[3] == fmt.money(sum(Decimal(t["net_pnl"]) for t in mine))
        wins = sum(1 for t in mine if Decimal(t["net_pnl"]) > 0)
        assert row[8].startswith(f"{wins} / ")
    reasons = tables.by_exit_reason(result)
    assert {r[0] for r in reasons.rows} == {t["exit_reason"] for t in trades}
    assert reasons.total == ("TOTAL", *by_symbol.total[1:])
    months = tables.by_month(result)
    assert [r[0] for r in months.rows] == ["2025-09", "2025-10"]
    assert sum(int(r[1]) for r in months.rows) == len(trades)
    assert months.total is not None
    assert months.total[-1] == fmt.percent(Decimal(data["metrics"]["return_pct"]))
    assert months.total[-2] == fmt.money(Decimal(data["metrics"]["final_equity"]))
    summary = dict(tables.summary(result).rows)
    max_dd = fmt.percent(Decimal(data["metrics"]["max_drawdown_pct"]))
    assert summary["Max drawdown"] == max_dd + " %"
    assert summary["Net PnL (equity, open positions marked)"] == (
        fmt.money(Decimal(data["metrics"]["net_pnl"])) + " USDT"
    )
    trade_rows = tables.trades(result).rows
    first = trades[0]
    assert trade_rows[0][1] == first["symbol"] and trade_rows[0][9] == fmt.money(
        Decimal(first["fees"])
    )
    assert trade_rows[0][13] == fmt.duration(first["holding_seconds"])


class _Tables(HTMLParser):
    """Every <table id=...> of a page as rows of cell texts (head, body and foot)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_console_and_html_show_the_same_cells(result: BacktestResult) -> None:
    page = _Tables()
    page.feed(to_html(result))
    out = io.StringIO()
    console.print_report(result, file=out)
    text = out.getvalue()
    for table in console.report_tables(result):
        rows = [list(r) for r in table.rows]
        if table.total is not None:
            rows.append(list(table.total))
        html_rows = page.tables[f"table-{table.key}"]
        assert html_rows[0] == [c.title for c in table.columns]
        assert html_rows[1:] == rows
        for row in rows:  # one console line holds the row's cells in order
            pattern = r"\s+".join(re.escape(cell) for cell in row if cell)
            assert re.search(pattern, text), row
    params = page.tables["table-parameters"]
    assert ["ema_fast", "240", "int", "240", ""] in params


def test_the_equity_chart_keeps_the_max_drawdown_when_thinned(
    result: BacktestResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chart_data, "MAX_CURVE_POINTS", 300)
    points = chart_data.equity_points(result)
    full, kept = points["downsampled"]
    assert full == len(result.times_ms) and kept < 4 * 300 + 2 < full
    # the chart's worst drawdown and last equity read exactly as the summary's
    summary = dict(tables.summary(result).rows)
    assert f"{fmt.fixed(-min(points['drawdown']))} %" == summary["Max drawdown"]
    assert f"{fmt.money(points['equity'][-1])} USDT" == summary["Final equity"]
    assert max(points["equity"]) == pytest.approx(float(np.max(result.equity)), abs=0.01)
    assert points["t"] == sorted(points["t"]) and points["t"][-1] == result.times_ms[-1] // 1000


def test_candles_are_thinned_to_a_standard_interval_with_every_trade_marked(
    result: BacktestResult,
) -> None:
    charts = chart_data.candle_charts(result)["charts"]
    assert len(charts) == 3
    for chart in charts:
        bars = result.output.data.series[chart["symbol"]]
        assert chart["bar_minutes"] == 5 and chart["shown_minutes"] == 15  # 6,048 bars / 3
        assert len(chart["t"]) * 3 == len(bars)
        assert chart["h"][1] == pytest.approx(float(bars.high[3:6].max()))
        assert chart["o"][1] == pytest.approx(float(bars.open[3])) and chart["c"][1] == float(
            bars.close[5]
        )
        mine = [t for t in result.trips if t.symbol == chart["symbol"]]
        assert len(chart["markers"]) == 2 * len(mine)
        assert set(chart["lines"]) == {"ema_fast", "ema_slow"}  # price overlays, no close copy
        assert chart["overlays"] == ["ema_fast", "ema_slow"] and chart["panes"] == []


def test_report_json_payload_is_valid_and_the_html_is_small(result: BacktestResult) -> None:
    html = to_html(result)
    payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert payload is not None
    data = json.loads(payload.group(1))
    assert set(data) == {"equity", "candles"}
    assert len(html) < 1_500_000
