"""Golden backtests on the real candles: trade counts, first/last trades and net PnL pinned.

Computed once with default parameters and settings (10,000 USDT, VIP0 fees) and reviewed:
ShortSeller loses mostly to fees on many short regime exits, LXAlgo's 8 % pump gate fires only in
the 2025-10-10 crash, Momentum trades the 6 symbols of its universe that have 4h data (AAVE and APE
are not in it: the loader says so). A change here means the strategy, the engine or the matching
engine changed behaviour: check why before re-pinning.

Re-pinned for issue 16 (two reviewed causes, nothing else moved): (1) funding is the real 8-hourly
Bybit rate history bundled beside the candles instead of the constant 0.01 %/8 h (funding paid:
shortseller -71.98 -> -19.12, lxalgo 0.049 -> -1.18, momentum 46.15 -> 9.44); (2) BTCUSDT, ETHUSDT
and ADAUSDT trade under Bybit's instruments-info (ticks 0.1 / 0.01 / 0.0001, ADA qty step 1), so
sizes round differently (ADA 10533.319 -> 10576; SOL 47.1 -> 46.8 as equity differs). With the
constant rate the old trade lists come back but for those roundings (momentum -973.0554, was
-973.0566; shortseller -1477.8917, was -1477.9774; lxalgo unchanged -3.128273605).
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
        "-1533.128387826259",
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
            "46.8",
            "2025-11-22T22:30:00Z",
            "127.06",
            "2025-11-22T23:30:00Z",
            "127.61",
            "-32.29520580",
        ),
    ),
    "lxalgo": (
        FIVE,
        3,
        "-1.897984085110",
        (
            "ETHUSDT",
            "Buy",
            "0.05",
            "2025-10-10T22:25:00Z",
            "3845.83",
            "2025-10-11T06:25:00Z",
            "3801.75",
            "-2.189243259685",
        ),
        (
            "BTCUSDT",
            "Buy",
            "0.001",
            "2025-10-10T22:25:00Z",
            "112559.3",
            "2025-10-11T06:35:00Z",
            "112290.8",
            "-0.376237325425",
        ),
    ),
    "momentum": (
        FOUR,
        47,
        "-935.39858815519197",
        (
            "SOLUSDT",
            "Buy",
            "10.19",
            "2025-10-21T16:00:00Z",
            "196.21",
            "2025-10-22T00:00:00Z",
            "185.52",
            # includes the funding charged at 00:00 on the position held up to the exit of that
            # same instant (fold order: funding first)
            "-111.259550665",
        ),
        (
            "ADAUSDT",
            "Buy",
            "10576",
            "2026-07-11T16:00:00Z",
            "0.1716",
            "2026-07-12T00:00:00Z",
            "0.1657",
            "-64.195011050784",
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
