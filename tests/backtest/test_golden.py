"""Golden backtests on the real candles: trade counts, first/last trades and net PnL pinned.

Computed once with default parameters and settings (10,000 USDT, VIP0 fees, funding 0.01 %/8 h)
and reviewed: ShortSeller loses mostly to fees on many short regime exits, LXAlgo's 8 % pump gate
fires only in the 2025-10-10 crash, Momentum trades the 8 symbols of its universe that have 4h data.
A change here means the strategy, the engine or the matching engine changed behaviour: check why
before re-pinning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alphadesk.backtest.data import load
from alphadesk.backtest.result import summarize, to_dict
from alphadesk.backtest.runner import run
from alphadesk.strategies import build

FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
FOUR = [
    f"{s}USDT_4h_bybit-perp-20250924-20260721"
    for s in ("AAVE", "ADA", "APE", "AVAX", "BNB", "BTC", "ETH", "SOL")
]
KEYS = ("symbol", "side", "qty", "entry_time", "entry_price", "exit_time", "exit_price", "net_pnl")

GOLDEN = {
    "shortseller": (
        FIVE,
        422,
        "-1477.977362870",
        (
            "ETHUSDT",
            "Sell",
            "1.77",
            "2025-09-26T02:10:00Z",
            "3948.9",
            "2025-09-26T03:15:00Z",
            "3959.5",
            "-26.46082740",
        ),
        (
            "SOLUSDT",
            "Sell",
            "47.1",
            "2025-11-22T22:30:00Z",
            "127.06",
            "2025-11-22T23:30:00Z",
            "127.61",
            "-32.50222635",
        ),
    ),
    "lxalgo": (
        FIVE,
        3,
        "-3.128273605",
        (
            "ETHUSDT",
            "Buy",
            "0.05",
            "2025-10-10T22:25:00Z",
            "3845.83",
            "2025-10-11T06:25:00Z",
            "3801.75",
            "-2.433427300",
        ),
        (
            "BTCUSDT",
            "Buy",
            "0.001",
            "2025-10-10T22:25:00Z",
            "112559.3",
            "2025-10-11T06:35:00Z",
            "112290.8",
            "-0.403440805",
        ),
    ),
    "momentum": (
        FOUR,
        47,
        "-973.056601419825",
        (
            "SOLUSDT",
            "Buy",
            "10.19",
            "2025-10-21T16:00:00Z",
            "196.21",
            "2025-10-22T00:00:00Z",
            "185.52",
            # includes the 0.18904488 funding (10.19 x 185.52 x 0.01 %) charged at 00:00 on the
            # position held up to the exit of that same instant (fold order: funding first)
            "-111.259550665",
        ),
        (
            "ADAUSDT",
            "Buy",
            "10533.319",
            "2026-07-11T16:00:00Z",
            "0.1716",
            "2026-07-12T00:00:00Z",
            "0.1657",
            "-64.275207870115",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_backtest(name: str, market_csv: Callable[[str], Path]) -> None:
    files, count, net, first, last = GOLDEN[name]
    result = summarize(run(build(name), load([market_csv(f) for f in files])))
    data = to_dict(result)
    trades = data["trades"]
    assert len(trades) == count
    assert data["metrics"]["net_pnl"] == net
    assert tuple(trades[0][k] for k in KEYS) == first
    assert tuple(trades[-1][k] for k in KEYS) == last
    # money adds up: equity = initial + realised round trips + open positions' PnL - open costs
    assert result.metrics.final_equity == result.output.final_equity
