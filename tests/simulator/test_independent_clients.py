"""Two clients we did not write prove the simulator speaks Bybit: pybit (Bybit's own SDK) and ccxt.

pybit is synchronous (requests + websocket-client threads), so its calls run in worker threads
while the simulator serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import pybit.unified_trading as unified
import pytest
from simulator_kit import MAIN

from alphadesk.simulator import Simulator

TAKER = Decimal("0.00055")


async def subscribed(sim: Simulator, topic: str, within_s: float = 10.0) -> None:
    """Wait (generously: it is a wait, not a timing claim) until the server holds an
    authenticated private session subscribed to ``topic``; fail saying so if it never does."""

    async def poll() -> None:
        while True:
            sessions = [s for s in sim.exchange.subscribers if s.channel == "private"]
            if sessions and all(s.wants(topic) for s in sessions):
                return
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), within_s)
    except TimeoutError:
        pytest.fail(f"pybit's private WebSocket never subscribed to {topic!r} in {within_s} s")


def pybit_http(sim: Simulator) -> Any:
    session = unified.HTTP(testnet=False, api_key=MAIN.key, api_secret=MAIN.secret)
    session.endpoint = sim.base_url
    return session


def _register_before_sending(ws: Any) -> None:
    """pybit records a subscription only after sending it; a server on the same machine can
    answer first, and pybit's reply handler then fails on the unknown ``req_id`` and drops its
    socket (Bybit, an ocean away, never wins that race). Record it before the send instead."""
    send = ws.ws.send

    def send_registered(message: str, *args: Any, **kwargs: Any) -> Any:
        body = json.loads(message)
        if body.get("op") == "subscribe":
            ws.subscriptions[body["req_id"]] = message
        return send(message, *args, **kwargs)

    ws.ws.send = send_registered


async def test_pybit_rest_and_private_websocket(
    sim: Simulator, btc_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = pybit_http(sim)
    server_time = await asyncio.to_thread(http.get_server_time)
    assert server_time["retCode"] == 0 and int(server_time["result"]["timeSecond"]) > 1_700_000_000
    instruments = await asyncio.to_thread(http.get_instruments_info, category="linear")
    symbols = {i["symbol"]: i for i in instruments["result"]["list"]}
    assert symbols["BTCUSDT"]["lotSizeFilter"]["qtyStep"] == "0.001"
    klines = await asyncio.to_thread(http.get_kline, category="linear", symbol="BTCUSDT",
                                     interval="5", limit=2)
    newest = klines["result"]["list"][0]
    assert int(newest[0]) + 300_000 == sim.now_ms
    assert Decimal(newest[4]) == sim.exchange.replay.price("BTCUSDT")

    monkeypatch.setattr(unified, "PRIVATE_WSS", sim.private_ws_url)
    monkeypatch.setattr(unified, "PUBLIC_WSS", sim.ws_url + "/v5/public/{CHANNEL_TYPE}")
    pushed: queue.Queue[dict[str, Any]] = queue.Queue()
    ws = await asyncio.to_thread(unified.WebSocket, testnet=False, channel_type="private",
                                 api_key=MAIN.key, api_secret=MAIN.secret)
    try:
        _register_before_sending(ws)
        await asyncio.to_thread(ws.execution_stream, callback=pushed.put)
        await subscribed(sim, "execution")
        assert "execution" in ws.callback_directory
        price = sim.exchange.replay.price("BTCUSDT")
        placed = await asyncio.to_thread(
            http.place_order, category="linear", symbol="BTCUSDT", side="Buy",
            orderType="Market", qty="0.004", orderLinkId="pybit-1")
        assert placed["retCode"] == 0 and placed["result"]["orderLinkId"] == "pybit-1"
        message = await asyncio.to_thread(pushed.get, True, 5)
        execution = message["data"][0]
        assert message["topic"] == "execution"
        assert execution["orderId"] == placed["result"]["orderId"]
        assert Decimal(execution["execPrice"]) == price
        assert Decimal(execution["execFee"]) == Decimal("0.004") * price * TAKER
    finally:
        await asyncio.to_thread(ws.exit)

    far = str((price / 2).quantize(Decimal("0.1")))
    resting = await asyncio.to_thread(
        http.place_order, category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit",
        qty="0.001", price=far, orderLinkId="pybit-rest")
    cancelled = await asyncio.to_thread(http.cancel_order, category="linear", symbol="BTCUSDT",
                                        orderId=resting["result"]["orderId"])
    assert cancelled["result"]["orderLinkId"] == "pybit-rest"

    for i in range(3):  # close in three pieces: 3 more executions, 3 closed-pnl records
        await asyncio.to_thread(http.place_order, category="linear", symbol="BTCUSDT",
                                side="Sell", orderType="Market", qty="0.001",
                                orderLinkId=f"pybit-close-{i}")
    seen: list[str] = []
    cursor = ""
    while True:
        page = await asyncio.to_thread(http.get_executions, category="linear", limit=3,
                                       cursor=cursor)
        seen += [e["orderLinkId"] for e in page["result"]["list"]]
        cursor = page["result"]["nextPageCursor"]
        if not cursor:
            break
    assert seen == ["pybit-close-2", "pybit-close-1", "pybit-close-0", "pybit-1"]
    closed = await asyncio.to_thread(http.get_closed_pnl, category="linear", symbol="BTCUSDT")
    records = closed["result"]["list"]
    assert len(records) == 3 and all(r["side"] == "Sell" for r in records)
    entry_fee_share = Decimal("0.001") * price * TAKER
    exit_fee = Decimal("0.001") * price * TAKER
    # the price did not move, so each close loses exactly its share of both fees
    assert all(Decimal(r["closedPnl"]) == -(entry_fee_share + exit_fee) for r in records)


async def test_ccxt_loads_markets_and_places_an_order(
    sim: Simulator, bybit_payload: Callable[[str], Any]
) -> None:
    exchange = ccxt_async.bybit({"apiKey": MAIN.key, "secret": MAIN.secret})
    base, ws = sim.base_url, sim.ws_url
    exchange.urls["api"] = {
        **{name: base for name in ("spot", "futures", "v2", "public", "private")},
        "ws": {"public": {c: f"{ws}/v5/public/{c}" for c in ("spot", "linear", "inverse",
                                                               "option")},
               "private": {"contract": f"{ws}/v5/private", "unified": f"{ws}/v5/private",
                           "usdc": f"{ws}/v5/private",
                           "spot": {"unified": f"{ws}/v5/private",
                                    "nonUnified": f"{ws}/v5/private"}}},
    }
    exchange.options["fetchMarkets"] = {"types": ["linear"]}
    try:
        markets = await exchange.load_markets()
        assert "BTC/USDT:USDT" in markets and "ETH/USDT:USDT" in markets
        btc = markets["BTC/USDT:USDT"]
        assert btc["precision"]["amount"] == 0.001 and btc["precision"]["price"] == 0.1
        server = await exchange.fetch_time()
        assert abs(server - exchange.milliseconds()) < 5_000
        raw = await exchange.privatePostV5OrderCreate({
            "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
            "qty": "0.002", "orderLinkId": "ccxt-1"})
        assert raw["retCode"] == "0" or raw["retCode"] == 0
        assert raw["result"]["orderLinkId"] == "ccxt-1"
        trades = await exchange.privateGetV5ExecutionList({"category": "linear"})
        (execution,) = trades["result"]["list"]
        assert Decimal(execution["execPrice"]) == sim.exchange.replay.price("BTCUSDT")
        ticker = await exchange.fetch_ticker("BTC/USDT:USDT")
        assert Decimal(str(ticker["last"])) == sim.exchange.replay.price("BTCUSDT")
    finally:
        await exchange.close()
