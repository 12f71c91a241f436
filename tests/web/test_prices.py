"""``GET /api/v1/prices/{symbol}``: the closed bars the listener published on ``events:bars``,
read back through the facade (in-process bus and real Redis), in time order, limit honoured."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from alphadesk.domain.bars import Bar
from control.control_support import control_over, seed

from .conftest import Desk
from .web_support import VIEWER_TOKEN, bearer, serve, web_env

T0 = 1_758_672_000_000
MIN = 60_000


def _bar(symbol: str, i: int, close: float, interval: int = 1) -> Bar:
    open_ms = T0 + i * interval * MIN
    return Bar(symbol, interval, open_ms, close - 1, close + 2, close - 3, close, 5.0)


async def test_prices_are_the_published_bars_in_time_order(desk: Desk, tmp_path: Path) -> None:
    await seed(desk.url)
    bus = desk.state.bus
    # Interleaved symbols, published out of time order, and one bar published twice (a replay):
    await bus.bars.publish([_bar("BTCUSDT", i, 100_000.5 + i) for i in (2, 0, 1)])
    await bus.bars.publish([_bar("ETHUSDT", i, 3_000.25 + i) for i in range(4)])
    await bus.bars.publish([_bar("BTCUSDT", i, 100_000.5 + i) for i in (3, 4, 4)])
    async with (
        control_over(desk.url, desk.state) as control,
        serve(control, bus, web_env(tmp_path)) as base,
        aiohttp.ClientSession(headers=bearer(VIEWER_TOKEN)) as http,
    ):
        async with http.get(f"{base}/api/v1/prices/BTCUSDT") as res:
            assert res.status == 200, await res.text()
            body = await res.json()
        assert body["symbol"] == "BTCUSDT" and body["interval_min"] == 1
        closes = [b["close"] for b in body["bars"]]
        assert closes == ["100000.5", "100001.5", "100002.5", "100003.5", "100004.5"]
        assert [b["time"] for b in body["bars"]][:2] == [
            "2025-09-24T00:00:00Z", "2025-09-24T00:01:00Z",
        ]
        assert body["bars"][0]["high"] == "100002.5" and body["bars"][0]["low"] == "99997.5"

        async with http.get(f"{base}/api/v1/prices/BTCUSDT?limit=2") as res:
            assert [b["close"] for b in (await res.json())["bars"]] == ["100003.5", "100004.5"]
        async with http.get(f"{base}/api/v1/prices/ETHUSDT?limit=3") as res:
            assert [b["close"] for b in (await res.json())["bars"]] == [
                "3001.25", "3002.25", "3003.25",
            ]
        async with http.get(f"{base}/api/v1/prices/SOLUSDT") as res:
            assert res.status == 200 and (await res.json())["bars"] == []

        for query, field in (("BTCUSDT?limit=0", "limit"), ("BTCUSDT?limit=5001", "limit"),
                             ("BTC%20USDT", "symbol"), ("BTC:USDT", "symbol")):  # fmt: skip
            async with http.get(f"{base}/api/v1/prices/{query}") as res:
                assert res.status == 400, query
                assert (await res.json())["field"] == field
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.get(f"{base}/api/v1/prices/BTCUSDT") as res,
        ):
            assert res.status == 401


async def test_no_bar_source_means_an_empty_history(desk: Desk) -> None:
    await desk.state.bus.bars.publish([_bar("BTCUSDT", 0, 1.5)])
    async with control_over(desk.url, desk.state, bars=None) as control:
        history = await control.price_history("BTCUSDT")
    assert history.bars == () and history.interval_min is None


async def test_a_symbol_keeps_the_timeframe_of_its_newest_bar(desk: Desk) -> None:
    four_hourly = _bar("BTCUSDT", 0, 10.5, interval=240)
    minutely = [_bar("BTCUSDT", 0, 20.5), _bar("BTCUSDT", 1, 21.5)]
    await desk.state.bus.bars.publish([four_hourly, *minutely])
    async with control_over(desk.url, desk.state) as control:
        history = await control.price_history("BTCUSDT", limit=10)
    assert history.interval_min == 1
    assert [str(b.close) for b in history.bars] == ["20.5", "21.5"]


async def test_history_pages_back_past_other_symbols(desk: Desk) -> None:
    """The stream is shared: the symbol's bars sit behind more than one page of other symbols'."""
    await desk.state.bus.bars.publish([_bar("BTCUSDT", i, 50.5 + i) for i in range(3)])
    await desk.state.bus.bars.publish([_bar("ETHUSDT", i, 7.5) for i in range(30)])
    # pages of 7: four pages of ETH before the first BTC bar
    async with control_over(desk.url, desk.state, bars_page=7) as control:
        history = await control.price_history("BTCUSDT", limit=2)
    assert [str(b.close) for b in history.bars] == ["51.5", "52.5"]
