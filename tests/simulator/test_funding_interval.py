"""The simulator says one funding interval per symbol everywhere: instruments-info
``fundingInterval``, the tickers' ``fundingIntervalHour`` and ``nextFundingTime``, the public
funding history, and the Funding executions it books.

BTCUSDT trades under Bybit's bundled rules (``fundingInterval`` 480) with no history beside it:
the constant every 8 hours. SOLUSDT has no Bybit rules bundled but a 4-hourly rate history of
test values beside its candles: it settles every 4 hours at those rates.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest_asyncio
from simulator_kit import MAIN, Client

from alphadesk.simulator import Simulator, run_simulator

HOUR = 3_600_000
START = 1_758_672_000_000  # 2025-09-24 00:00 UTC, where the 5-minute files start
FILES = ("BTCUSDT_5m_bybit-perp-20250924-20251122", "SOLUSDT_5m_bybit-perp-20250924-20251122")


def sol_rate(t: int) -> Decimal:
    return Decimal((t - START) // (4 * HOUR) % 7 + 1) / 100_000  # test values 0.00001..0.00007


@pytest_asyncio.fixture
async def client(
    tmp_path: Path, market_csv: Callable[[str], Path]
) -> AsyncIterator[tuple[Client, Simulator]]:
    files = [Path(shutil.copy(market_csv(f), tmp_path / f"{f}.csv")) for f in FILES]
    with (tmp_path / "SOLUSDT_4h_funding_test.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["ts_ms", "funding_rate"])
        for t in range(START, START + 10 * 24 * HOUR, 4 * HOUR):
            out.writerow([t, str(sol_rate(t))])
    async with run_simulator(files, [MAIN], history_bars=300) as sim, aiohttp.ClientSession(
    ) as session:
        yield Client(session, sim.base_url), sim


async def test_each_symbol_reports_and_settles_on_its_own_interval(
    client: tuple[Client, Simulator],
) -> None:
    api, sim = client
    now = sim.now_ms  # 2025-09-25 01:00: the next 4-hour settlement is 04:00, the 8-hour 08:00
    info = await api.public("/v5/market/instruments-info", category="linear")
    intervals = {i["symbol"]: i["fundingInterval"] for i in info["result"]["list"]}
    assert intervals == {"BTCUSDT": 480, "SOLUSDT": 240}
    tickers = await api.public("/v5/market/tickers", category="linear")
    by_symbol = {t["symbol"]: t for t in tickers["result"]["list"]}
    sol_next = (now // (4 * HOUR) + 1) * 4 * HOUR
    btc_next = (now // (8 * HOUR) + 1) * 8 * HOUR
    assert sol_next != btc_next
    assert (by_symbol["SOLUSDT"]["fundingIntervalHour"], by_symbol["BTCUSDT"]["fundingIntervalHour"]
            ) == ("4", "8")
    assert int(by_symbol["SOLUSDT"]["nextFundingTime"]) == sol_next
    assert Decimal(by_symbol["SOLUSDT"]["fundingRate"]) == sol_rate(sol_next)
    assert (int(by_symbol["BTCUSDT"]["nextFundingTime"]), by_symbol["BTCUSDT"]["fundingRate"]) == (
        btc_next, "0.0001")
    # BTCUSDT has no history: the served one is the 8-hour grid at the constant
    served = await api.public("/v5/market/funding/history", category="linear",
                              symbol="BTCUSDT", limit="4")
    times = [int(r["fundingRateTimestamp"]) for r in served["result"]["list"]]
    assert times == [btc_next - 8 * HOUR * k for k in range(1, 5)]
    # a SOLUSDT long pays at 04:00 at the recorded rate, a BTCUSDT long only at 08:00
    for symbol, qty in (("SOLUSDT", "5"), ("BTCUSDT", "0.01")):
        await api.ok_post(MAIN, "/v5/order/create", {
            "category": "linear", "symbol": symbol, "side": "Buy", "orderType": "Market",
            "qty": qty})
    sim.advance_to(btc_next + 300_000)
    result = await api.ok_get(MAIN, "/v5/execution/list", "category=linear&execType=Funding")
    paid = sorted((r["symbol"], int(r["execTime"]), Decimal(r["execFee"]),
                   Decimal(r["execQty"]) * Decimal(r["execPrice"])) for r in result["list"])
    assert [(s, t) for s, t, _, _ in paid] == [
        ("BTCUSDT", btc_next), ("SOLUSDT", sol_next), ("SOLUSDT", sol_next + 4 * HOUR)]
    for symbol, at, fee, value in paid:
        assert fee == value * (sol_rate(at) if symbol == "SOLUSDT" else Decimal("0.0001"))
