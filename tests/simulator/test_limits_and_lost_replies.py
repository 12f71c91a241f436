"""Raw REST: the simulator really enforces Bybit's order rate limit, a lost reply still places
the order, injected rows reach REST lists, and a simulator without accounts serves market data."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from simulator_kit import MAIN, OTHER, Client

from alphadesk.simulator import RateLimits, Simulator, run_simulator

BTC = {"category": "linear", "symbol": "BTCUSDT"}


def resting_buy(sim: Simulator, link: str) -> dict[str, str]:
    price = str((sim.exchange.replay.price("BTCUSDT") / 2).quantize(1))
    return {**BTC, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": price,
            "orderLinkId": link}


async def test_the_eleventh_order_in_a_second_is_refused_with_10006(
    client: Client, sim: Simulator
) -> None:
    answers = []
    for i in range(11):
        status, headers, body = await client.post(MAIN, "/v5/order/create",
                                                  resting_buy(sim, f"burst-{i}"))
        answers.append((status, headers, body))
    statuses = [(s, b["retCode"]) for s, _, b in answers]
    assert statuses == [(200, 0)] * 10 + [(200, 10006)], statuses
    refused_headers, refused = answers[-1][1], answers[-1][2]
    assert refused["retMsg"].startswith("Too many visits")
    assert refused_headers["X-Bapi-Limit"] == "10"
    assert refused_headers["X-Bapi-Limit-Status"] == "0"
    reset = int(refused_headers["X-Bapi-Limit-Reset-Timestamp"])
    assert [h["X-Bapi-Limit-Status"] for _, h, _ in answers[:10]] == [str(9 - i)
                                                                      for i in range(10)]
    assert len(sim.exchange.engine.open_orders(MAIN.name)) == 10  # the refused one was not placed
    assert sim.exchange.rate_windows.refused == 1
    # Another key has its own window; reads are reported but not refused.
    await client.ok_post(OTHER, "/v5/order/create", resting_buy(sim, "other-1"))
    for _ in range(12):
        await client.ok_get(MAIN, "/v5/order/realtime", "category=linear")
    # After the reset the same key may place orders again.
    await asyncio.sleep(max(0.0, reset / 1000 - time.time()) + 0.05)
    await client.ok_post(MAIN, "/v5/order/create", resting_buy(sim, "after-reset"))


async def test_limits_are_configurable(btc_csv: Path) -> None:
    async with run_simulator([btc_csv], [MAIN], history_bars=10,
                             rate_limits=RateLimits.reported_only()) as sim, \
            aiohttp.ClientSession() as session:
        client = Client(session, sim.base_url)
        for i in range(12):
            _, headers, body = await client.post(MAIN, "/v5/order/create",
                                                 resting_buy(sim, f"free-{i}"))
            assert body["retCode"] == 0, body
        assert headers["X-Bapi-Limit-Status"] == "0"  # reported as exhausted, never refused
    async with run_simulator([btc_csv], [MAIN], history_bars=10,
                             rate_limits=RateLimits.orders(2)) as sim, \
            aiohttp.ClientSession() as session:
        client = Client(session, sim.base_url)
        codes = [(await client.post(MAIN, "/v5/order/create",
                                    resting_buy(sim, f"two-{i}")))[2]["retCode"]
                 for i in range(3)]
        assert codes == [0, 0, 10006]


async def test_lost_reply_places_the_order_and_answers_5xx(client: Client, sim: Simulator) -> None:
    async with client.session.post(f"{sim.base_url}/sim/faults",
                                   json={"fault": "lose_reply", "count": 1, "status": 504,
                                         "path": "/v5/order/create"}) as resp:
        described = await resp.json()
    assert described["rest"][0]["afterProcessing"] is True
    status, _, body = await client.post(MAIN, "/v5/order/create", resting_buy(sim, "lost-1"))
    assert (status, body) == (504, None)
    found = await client.ok_get(MAIN, "/v5/order/realtime", "category=linear&orderLinkId=lost-1")
    assert [o["orderLinkId"] for o in found["list"]] == ["lost-1"]  # it was placed all the same
    _, _, again = await client.post(MAIN, "/v5/order/create", resting_buy(sim, "lost-1"))
    assert again["retCode"] == 110072  # the resend is refused as a duplicate, as on Bybit


async def test_extra_rows_are_appended_to_a_rest_list(client: Client, sim: Simulator) -> None:
    row = {"execId": "odd-1", "symbol": "BTCUSDT", "execType": "UNKNOWN"}
    async with client.session.post(f"{sim.base_url}/sim/faults",
                                   json={"fault": "extra_rows", "rows": [row],
                                         "path": "/v5/execution/list"}) as resp:
        assert resp.status == 200
    first = await client.ok_get(MAIN, "/v5/execution/list", "category=linear")
    assert first["list"] == [row]
    second = await client.ok_get(MAIN, "/v5/execution/list", "category=linear")
    assert second["list"] == []  # armed for one answer only


async def test_without_accounts_public_data_is_served_and_keys_are_unknown(
    btc_csv: Path,
) -> None:
    async with run_simulator([btc_csv], [], history_bars=10) as sim, \
            aiohttp.ClientSession() as session:
        client = Client(session, sim.base_url)
        tickers = await client.public("/v5/market/tickers", category="linear")
        assert [t["symbol"] for t in tickers["result"]["list"]] == ["BTCUSDT"]
        status, _, body = await client.get(MAIN, "/v5/account/wallet-balance",
                                           "accountType=UNIFIED")
        assert (status, body["retCode"]) == (200, 10003)
        async with session.ws_connect(sim.private_ws_url) as ws:
            await ws.send_json({"op": "auth", "args": [MAIN.key, int(time.time() * 1000) + 5000,
                                                       "00"]})
            reply = await ws.receive_json(timeout=5)
        assert reply["op"] == "auth" and reply["success"] is False
