"""The HTML report in a real browser: Debian's Chromium driven by Playwright (never a browser
Playwright downloads). The charts must be drawn (canvases with pixels on them, the library's
chart objects present, the trade markers set), hovering shows values, the wheel zooms, nothing
is logged as an error and nothing is fetched from anywhere. A full-page screenshot is kept as a
CI artefact in $ALPHADESK_ARTEFACTS (default: a folder in the system's temp directory)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from alphadesk.app.cli import main

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
FILES = [f"{s}_5m_bybit-perp-20250924-20251122" for s in SYMBOLS]
HOVER = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+equity [\d,]+\.\d\d USDT\s+drawdown -?[\d.]+ %"
CANDLES_0 = "window.alphadeskCharts[1].chart"


def _artefacts() -> Path:
    default = Path(tempfile.gettempdir()) / "alphadesk-artefacts"
    folder = Path(os.environ.get("ALPHADESK_ARTEFACTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing and could not be installed (scripts/test runs "
            "`apt-get install -y chromium` as root); the HTML report is not checked in a browser"
        )
    return CHROMIUM


def test_report_draws_its_charts_in_chromium(
    market_csv: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    report, out_json = tmp_path / "shortseller.html", tmp_path / "shortseller.json"
    code = main([
        "backtest", "--strategy", "shortseller", "--data", *(str(market_csv(f)) for f in FILES),
        "--to", "2025-10-15", "--report", str(report), "--json", str(out_json),
    ])
    assert code == 0
    trades = json.loads(out_json.read_text())["trades"]
    per_symbol = {s: sum(1 for t in trades if t["symbol"] == s) for s in SYMBOLS}
    assert all(per_symbol.values())
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_function("document.body.dataset.chartsDrawn !== undefined")
            charts = page.evaluate(
                "window.alphadeskCharts.map(c => ({id: c.id, trades: c.trades || 0,"
                " markers: c.markers ? c.markers.markers().length : 0,"
                " panes: c.chart.panes().length}))"
            )
            by_trades = sorted(per_symbol, key=lambda s: (-per_symbol[s], s))
            assert [c["id"] for c in charts] == ["equity", *(f"candles-{s}" for s in by_trades)]
            assert charts[0]["panes"] == 2  # equity above, drawdown below
            for chart in charts[1:]:
                symbol = chart["id"].removeprefix("candles-")
                assert chart["markers"] == chart["trades"] == 2 * per_symbol[symbol]
                assert chart["panes"] >= 1
            # every chart's canvases are laid out and carry drawn (non-background) pixels
            inked = page.evaluate(
                """() => Array.from(document.querySelectorAll('.chart')).map(box => {
                     let ink = 0;
                     for (const c of box.querySelectorAll('canvas')) {
                       if (!c.width || !c.height) continue;
                       const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       for (let i = 0; i < px.length; i += 4)
                         if (px[i + 3] > 0 && Math.min(px[i], px[i + 1], px[i + 2]) < 200) ink++;
                     }
                     return [box.id, box.getBoundingClientRect().width, ink];
                   })"""
            )
            assert len(inked) == len(charts)
            for box_id, width, ink in inked:
                assert width > 600 and ink > 2_000, (box_id, width, ink)
            # hovering the equity chart shows the date, equity and drawdown under the cursor
            last = page.inner_text("#equity-legend")
            page.locator("#equity-chart").scroll_into_view_if_needed()
            box = page.locator("#equity-chart").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4, steps=5)
            page.wait_for_function(
                "last => document.getElementById('equity-legend').innerText !== last", arg=last
            )
            hovered = page.inner_text("#equity-legend")
            assert re.search(HOVER, hovered), hovered
            assert hovered != last
            # the wheel zooms the first candle chart in
            before = page.evaluate(f"{CANDLES_0}.timeScale().getVisibleLogicalRange()")
            page.locator("#candles-0").scroll_into_view_if_needed()
            candle_box = page.locator("#candles-0").bounding_box()
            assert candle_box is not None
            page.mouse.move(candle_box["x"] + candle_box["width"] / 2, candle_box["y"] + 150)
            page.mouse.wheel(0, -600)
            page.wait_for_function(
                f"span => {{ const r = {CANDLES_0}.timeScale().getVisibleLogicalRange();"
                " return r.to - r.from < span; }",
                arg=before["to"] - before["from"],
            )
            shot = _artefacts() / "backtest-report.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copyfile(report, _artefacts() / "backtest-report.html")
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nreport screenshot: {shot}")
    assert shot.stat().st_size > 20_000
    assert errors == []
    assert requests and all(u.startswith("file:") for u in requests), requests
