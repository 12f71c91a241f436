"""The same backtest twice gives byte-identical JSON; the CLI writes JSON and a self-contained
HTML report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from alphadesk.app.cli import main
from alphadesk.backtest.data import load
from alphadesk.backtest.result import summarize, to_json
from alphadesk.backtest.runner import run
from alphadesk.strategies import build

FILES = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]


def test_same_run_twice_is_byte_identical(market_csv: Callable[[str], Path]) -> None:
    paths = [market_csv(f) for f in FILES]
    first = to_json(summarize(run(build("shortseller"), load(paths, end_ms=1_759_276_800_000))))
    second = to_json(summarize(run(build("shortseller"), load(paths, end_ms=1_759_276_800_000))))
    assert first == second
    data = json.loads(first)
    assert data["trades"] and data["equity_curve"][0][0] < data["equity_curve"][-1][0]
    assert list(data) == sorted(data)


def test_cli_writes_json_and_report(
    market_csv: Callable[[str], Path], tmp_path: Path, capsys: object
) -> None:
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(
        [
            "backtest",
            "--strategy",
            "ema_cross",
            "--data",
            str(market_csv(FILES[0])),
            "--from",
            "2025-10-01",
            "--to",
            "2025-10-08",
            "--param",
            "fast=20",
            "--param",
            "slow=50",
            "--fees",
            "0.0006,0.0002",
            "--slippage-bps",
            "1",
            "--equity",
            "5000",
            "--json",
            str(out_json),
            "--report",
            str(out_html),
        ]
    )
    assert code == 0
    data = json.loads(out_json.read_text())
    assert data["params"]["fast"] == 20 and data["settings"]["initial_equity"] == "5000"
    assert data["start"] == "2025-10-01T00:00:00Z" and data["end"] == "2025-10-08T00:00:00Z"
    assert data["bars"] == 7 * 288
    html = out_html.read_text()
    # self-contained: the chart library and the data are inline, nothing is referenced
    assert "TradingView Lightweight Charts" in html and 'id="report-data"' in html
    for reference in ("<script src", "<link", "<img", "<iframe", "@import", "url(http"):
        assert reference not in html
    # the same run writes the same report
    assert main(["backtest", "--strategy", "ema_cross", "--data", str(market_csv(FILES[0])),
                 "--from", "2025-10-01", "--to", "2025-10-08", "--param", "fast=20", "--param",
                 "slow=50", "--fees", "0.0006,0.0002", "--slippage-bps", "1", "--equity", "5000",
                 "--report", str(tmp_path / "again.html")]) == 0
    assert (tmp_path / "again.html").read_text() == html
