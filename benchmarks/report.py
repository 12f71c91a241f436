"""Report cost: CPU seconds of the console tables, the JSON and the HTML report beside the
backtest itself, for each shipped strategy on the bundled candles and for ema_cross on a month of
1-minute bars (44,640 bars: the case where the charts are thinned), and the HTML's size.

Printed one line per run: ``NAME: run X s, json X s, console X s, html X s (N MB), html/run R``.
CPU time (``time.process_time``), so a busy machine does not skew the ratios. The HTML must stay
a small fraction of the run and a few MB at most.
Run: ``.venv/bin/python benchmarks/report.py``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from alphadesk.backtest.console import print_report
from alphadesk.backtest.data import load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import summarize, to_json
from alphadesk.backtest.runner import run
from alphadesk.data import market_dir
from alphadesk.strategies import build

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "market"
RUNS = (
    ("shortseller", sorted(market_dir().glob("*_5m_bybit-perp-*.csv"))),
    ("lxalgo", sorted(market_dir().glob("*_5m_bybit-perp-*.csv"))),
    ("momentum", sorted(market_dir().glob("*_4h_bybit-perp-*.csv"))),
    ("ema_cross", [FIXTURES / "BTCUSDT_1m_btc-perp-2022-01.csv"]),
)


def _cpu(action):  # type: ignore[no-untyped-def]
    start = time.process_time()
    value = action()
    return value, time.process_time() - start


def main() -> None:
    for name, files in RUNS:
        if not files or not all(f.is_file() for f in files):
            print(f"{name}: candles missing, skipped")
            continue
        data = load(files)
        result, run_s = _cpu(lambda: summarize(run(build(name), data)))  # noqa: B023
        _, json_s = _cpu(lambda: to_json(result))  # noqa: B023
        _, console_s = _cpu(lambda: print_report(result, file=io.StringIO()))  # noqa: B023
        html, html_s = _cpu(lambda: to_html(result))  # noqa: B023
        print(
            f"{name}: {result.bars} bars, run {run_s:.3f} s, json {json_s:.3f} s, console "
            f"{console_s:.3f} s, html {html_s:.3f} s ({len(html) / 1e6:.2f} MB), "
            f"html/run {html_s / run_s:.2f}"
        )


if __name__ == "__main__":
    main()
