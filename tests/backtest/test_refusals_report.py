"""Refused orders are in the console report and the HTML report, not only in the JSON: a run whose
every entry the venue turned away (real candles moved before the fills' 2018 bound) must say so
and why, instead of printing a report of zero trades."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.backtest.console import print_report
from alphadesk.backtest.data import align, load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import BacktestResult, summarize, to_json
from alphadesk.backtest.runner import run
from alphadesk.strategies import build

CANDLES = "BTCUSDT_5m_bybit-perp-20250924-20251122"
TEN_YEARS_MS = 10 * 365 * 86_400_000
BARS = 3000


def _console(result: BacktestResult) -> str:
    out = io.StringIO()
    print_report(result, file=out)
    return out.getvalue()


def test_a_run_whose_entries_were_all_refused_shows_them(
    market_csv: Callable[[str], Path],
) -> None:
    real = load([market_csv(CANDLES)]).series["BTCUSDT"]
    early = BarArrays(
        "BTCUSDT", 5, real.ts_ms[:BARS] - TEN_YEARS_MS, real.open[:BARS], real.high[:BARS],
        real.low[:BARS], real.close[:BARS], real.volume[:BARS],
    )
    output = run(build("ema_cross"), align([early]))
    assert output.fills == [] and len(output.refusals) > 10
    first = output.refusals[0]
    result = summarize(output)
    n = len(output.refusals)

    text = _console(result)
    assert "Refused orders" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("entry"))
    cells = re.split(r"\s{2,}", row.strip())
    first_at = "2015-09-2"  # ten 365-day years before 2025-09-24..: late September 2015
    assert cells[:3] == ["entry", "venue refused", str(n)] and cells[3].startswith(first_at)
    assert cells[4] == "BTCUSDT" and "fill.exec_time=" in cells[5] and "2018-01-01" in cells[5]
    assert any(line.split() == ["TOTAL", str(n)] for line in text.splitlines())

    html = to_html(result)
    assert 'id="table-refusals"' in html
    assert f'<td class="num">{n}</td>' in html and first.reason.split(":")[0] in html

    # the same groups as the JSON's counts
    assert json.loads(to_json(result))["refusals"] == {"entry: venue refused": n}


def test_a_run_without_refusals_has_no_such_table(market_csv: Callable[[str], Path]) -> None:
    data = load([market_csv(CANDLES)], end_ms=1_759_276_800_000)
    output = run(build("ema_cross"), data)
    assert output.fills and output.refusals == []
    result = summarize(output)
    assert "Refused orders" not in _console(result)
    assert "table-refusals" not in to_html(result)
