"""WebSocket sessions: acks, pongs, kline confirm, private pushes, and the WS faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
from simulator_kit import MAIN, Client

from alphadesk.simulator import Simulator


async def recv(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return dict(json.loads(msg.data))


async def auth(ws: aiohttp.ClientWebSocketResponse, key: str, secret: str) -> dict[str, Any]:
    expires = int(time.time() * 1000) + 10_000
    sig = hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    await ws.send_json({"op": "auth", "args": [key, expires, sig]})
    return await recv(ws)


async def test_public_ping_subscribe_and_kline_confirm(
    client: Client, sim: Simulator, bybit_payload: Callable[[str], Any]
) -> None:
    async with client.session.ws_connect(sim.public_ws_url) as ws:
        await ws.send_json({"op": "ping", "req_id": "p1"})
        pong = await recv(ws)
        assert pong["op"] == "ping" and pong["ret_msg"] == "pong" and pong["success"] is True
        await ws.send_json({"op": "subscribe", "req_id": "s1", "args": ["kline.5.BTCUSDT"]})
        ack = await recv(ws)
        assert set(ack) == set(bybit_payload("ws_subscription_ack"))
        assert ack["success"] is True and ack["req_id"] == "s1"
        await ws.send_json({"op": "subscribe", "req_id": "s2", "args": ["orderbook.1.BTCUSDT"]})
        nack = await recv(ws)
        assert nack["success"] is False and "Invalid topic" in nack["ret_msg"]
        sim.advance(1)
        updates = [await recv(ws) for _ in range(4)]
        recorded = bybit_payload("ws_kline")
        assert set(updates[0]) == set(recorded)
        assert set(updates[0]["data"][0]) == set(recorded["data"][0])
        assert [u["data"][0]["confirm"] for u in updates] == [False, False, False, True]
        assert len({u["data"][0]["start"] for u in updates}) == 1
        final = updates[-1]["data"][0]
        assert Decimal(final["close"]) == sim.exchange.replay.price("BTCUSDT")


async def test_ticker_snapshot_on_subscribe_keeps_open_interest_value(
    client: Client, sim: Simulator
) -> None:
    async with client.session.ws_connect(sim.public_ws_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["tickers.ETHUSDT", "publicTrade.ETHUSDT"]})
        assert (await recv(ws))["success"] is True
        snap = await recv(ws)
        assert snap["topic"] == "tickers.ETHUSDT" and "openInterestValue" in snap["data"]
        sim.advance(1)
        topics = [(await recv(ws))["topic"] for _ in range(8)]
        assert topics.count("publicTrade.ETHUSDT") == 4 and topics.count("tickers.ETHUSDT") == 4


async def test_private_auth_and_execution_push(
    client: Client, sim: Simulator, bybit_payload: Callable[[str], Any]
) -> None:
    async with client.session.ws_connect(sim.private_ws_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["execution"]})
        assert (await recv(ws))["success"] is False  # not authorised yet
        bad = await auth(ws, MAIN.key, "wrong")
        assert bad["success"] is False and bad["retCode"] == 10004
        good = await auth(ws, MAIN.key, MAIN.secret)
        assert good["success"] is True and set(good) >= set(bybit_payload("ws_auth_success"))
        await ws.send_json({"op": "subscribe", "req_id": "x", "args": ["execution", "order",
                                                                        "position", "wallet"]})
        assert (await recv(ws))["success"] is True
        await ws.send_json({"op": "ping", "req_id": "pp"})
        pong = await recv(ws)
        assert pong["op"] == "pong" and pong["req_id"] == "pp"
        await client.ok_post(MAIN, "/v5/order/create", {
            "category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Market",
            "qty": "0.003"})
        got = {}
        for _ in range(4):
            message = await recv(ws)
            got[message["topic"]] = message
        assert set(got) == {"execution", "order", "position", "wallet"}
        for topic, name in (("execution", "ws_account_execution"), ("order", "ws_account_order"),
                            ("position", "ws_account_position"), ("wallet", "ws_account_wallet")):
            recorded = bybit_payload(name)
            assert set(got[topic]) >= set(recorded) - {"id"} | {"topic", "data"}
            missing = set(recorded["data"][0]) - set(got[topic]["data"][0])
            assert not missing, (topic, missing)
        execution = got["execution"]["data"][0]
        price = sim.exchange.replay.price("BTCUSDT")
        assert Decimal(execution["execPrice"]) == price and execution["side"] == "Sell"
        assert Decimal(execution["execFee"]) == Decimal("0.003") * price * Decimal("0.00055")


async def test_drop_after_n_messages_and_duplicate_execution(
    client: Client, sim: Simulator
) -> None:
    async with client.session.ws_connect(sim.private_ws_url) as ws:
        assert (await auth(ws, MAIN.key, MAIN.secret))["success"] is True
        await ws.send_json({"op": "subscribe", "args": ["execution"]})
        assert (await recv(ws))["success"] is True
        sim.faults.duplicate_execution(1)
        await client.ok_post(MAIN, "/v5/order/create", {
            "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
            "qty": "0.001"})
        first, second = await recv(ws), await recv(ws)
        assert first == second and first["topic"] == "execution"
        sim.faults.drop_ws_after(1, channel="private")
        await ws.send_json({"op": "ping"})
        assert (await recv(ws))["op"] == "pong"
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE,
                            aiohttp.WSMsgType.ERROR)


async def test_reorder_and_delay(client: Client, sim: Simulator) -> None:
    async with client.session.ws_connect(sim.public_ws_url) as ws:
        sim.faults.reorder_ws(1)
        await ws.send_json({"op": "ping", "req_id": "a"})
        await ws.send_json({"op": "ping", "req_id": "b"})
        assert [(await recv(ws))["req_id"] for _ in range(2)] == ["b", "a"]
        sim.faults.delay_ws(300)
        start = time.monotonic()
        await ws.send_json({"op": "ping", "req_id": "c"})
        assert (await recv(ws))["req_id"] == "c"
        assert time.monotonic() - start >= 0.25
