"""Throughput of the matching engine: bars/s with nothing resting, with one resting stop, and
market round trips per second. Prints ``NAME: N bars/s`` lines.

Run: .venv/bin/python benchmarks/matching.py [path/to/candles.csv]
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.feed import load_csv
from alphadesk.domain.enums import Side
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import OrderRequest

DEFAULT = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/market/BTCUSDT_1m_btc-perp-2022-01.csv"
)
BTC = Instrument("BTCUSDT", Decimal("0.5"), Decimal("0.001"), Decimal("0.001"), Decimal(5))


def engine() -> MatchingEngine:
    e = MatchingEngine("backtest", [BTC])
    e.open_account("A", Decimal(1_000_000))
    return e


def run_bars(
    e: MatchingEngine, rows: list[tuple[int, float, float, float, float]], step: int
) -> float:
    on_bar = e.on_bar
    start = time.perf_counter()
    for ts, o, h, lo, c in rows:
        on_bar("BTCUSDT", o, h, lo, c, ts, ts + step)
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    data = load_csv(path, "BTCUSDT")
    step = data.interval_min * 60_000
    rows = list(
        zip(
            data.ts_ms.tolist(),
            data.open.tolist(),
            data.high.tolist(),
            data.low.tolist(),
            data.close.tolist(),
            strict=True,
        )
    )
    print(f"# {len(rows)} bars from {path.name}")

    print(f"no_orders: {run_bars(engine(), rows, step):,.0f} bars/s")

    e = engine()
    ts0, o0 = rows[0][0], rows[0][1]
    e.on_bar("BTCUSDT", o0, o0, o0, o0, ts0 - step, ts0)
    e.place(
        "A",
        OrderRequest("b", "BTCUSDT", Side.SELL, Decimal("0.01"), "s", trigger_price=Decimal(1000)),
        ts0,
    )
    print(f"one_resting_stop: {run_bars(e, rows[1:], step):,.0f} bars/s")

    e = engine()
    e.on_price("BTCUSDT", Decimal(50000), ts0)
    n = 5_000
    qty = Decimal("0.01")
    start = time.perf_counter()
    for i in range(n):
        e.place("A", OrderRequest("b", "BTCUSDT", Side.BUY, qty, f"b{i}"), ts0 + i)
        e.place("A", OrderRequest("b", "BTCUSDT", Side.SELL, qty, f"s{i}"), ts0 + i)
    rate = n / (time.perf_counter() - start)
    print(f"market_round_trip: {rate:,.0f} round_trips/s")


if __name__ == "__main__":
    main()
