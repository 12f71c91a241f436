"""Raw REST against the simulator: envelopes, auth errors, payload shapes, paging, values."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator_kit import MAIN, OTHER, WITHDRAWER, Client

from alphadesk.simulator import Simulator

ENVELOPE = {"retCode", "retMsg", "result", "retExtInfo", "time"}


def rows(path: Path) -> list[list[str]]:
    with path.open() as handle:
        return list(csv.reader(handle))[1:]


def assert_fields(ours: dict[str, Any], recorded: dict[str, Any], where: str) -> None:
    missing = set(recorded) - set(ours)
    assert not missing, f"{where} lacks {sorted(missing)}"
    for key, value in recorded.items():
        if isinstance(value, dict) and value:
            assert_fields(ours[key], value, f"{where}.{key}")
        elif value is not None and key in ours and ours[key] is not None:
            assert type(ours[key]) is type(value), f"{where}.{key}: {ours[key]!r} vs {value!r}"


async def test_server_time_uses_the_envelope_and_the_real_clock(client: Client) -> None:
    body = await client.public("/v5/market/time")
    assert set(body) == ENVELOPE
    assert body["retCode"] == 0 and body["retMsg"] == "OK"
    assert abs(int(body["result"]["timeSecond"]) - time.time()) < 5


async def test_instruments_have_the_recorded_shape_and_sensible_steps(
    client: Client, bybit_payload: Callable[[str], Any]
) -> None:
    body = await client.public("/v5/market/instruments-info", category="linear")
    recorded = bybit_payload("http_get_instruments_linear")
    assert set(body) >= set(recorded)
    listed = {i["symbol"]: i for i in body["result"]["list"]}
    assert sorted(listed) == ["BTCUSDT", "ETHUSDT"]
    assert_fields(listed["BTCUSDT"], recorded["result"]["list"][0], "instrument")
    assert listed["BTCUSDT"]["priceFilter"]["tickSize"] == "0.1"
    assert listed["BTCUSDT"]["lotSizeFilter"]["qtyStep"] == "0.001"
    assert listed["ETHUSDT"]["lotSizeFilter"]["qtyStep"] == "0.01"
    bad = await client.public("/v5/market/instruments-info", category="spot")
    assert bad["retCode"] == 10001


async def test_klines_are_the_file_newest_first_and_page_by_end(
    client: Client, sim: Simulator, btc_csv: Path, bybit_payload: Callable[[str], Any]
) -> None:
    data = rows(btc_csv)
    body = await client.public("/v5/market/kline", category="linear", symbol="BTCUSDT",
                               interval="5", limit="3")
    assert set(body["result"]) == set(bybit_payload("http_get_klines_linear")["result"])
    got = body["result"]["list"]
    closed = [r for r in data if int(r[0]) + 300_000 <= sim.now_ms]
    assert [k[0] for k in got] == [r[0] for r in closed[-1:-4:-1]]
    newest = closed[-1]
    assert [Decimal(x) for x in got[0][1:6]] == [Decimal(x) for x in newest[1:6]]
    # page backwards with end = oldest start - 1
    page2 = await client.public("/v5/market/kline", category="linear", symbol="BTCUSDT",
                                interval="5", limit="3", end=str(int(got[-1][0]) - 1))
    assert [k[0] for k in page2["result"]["list"]] == [r[0] for r in closed[-4:-7:-1]]
    # 15-minute klines aggregate three 5-minute rows
    agg = await client.public("/v5/market/kline", category="linear", symbol="BTCUSDT",
                              interval="15", limit="2")
    k15 = agg["result"]["list"][1]
    group = [r for r in data if int(k15[0]) <= int(r[0]) < int(k15[0]) + 900_000]
    assert Decimal(k15[2]) == max(Decimal(r[2]) for r in group)
    assert Decimal(k15[3]) == min(Decimal(r[3]) for r in group)
    too_many = await client.public("/v5/market/kline", category="linear", symbol="BTCUSDT",
                                   interval="5", limit="1001")
    assert too_many["retCode"] == 10001
    sim.advance(1)
    after = await client.public("/v5/market/kline", category="linear", symbol="BTCUSDT",
                                interval="5", limit="1")
    assert int(after["result"]["list"][0][0]) == int(closed[-1][0]) + 300_000


async def test_ticker_has_every_recorded_field_and_the_replay_price(
    client: Client, sim: Simulator, bybit_payload: Callable[[str], Any]
) -> None:
    body = await client.public("/v5/market/tickers", category="linear", symbol="BTCUSDT")
    ticker = body["result"]["list"][0]
    assert_fields(ticker, bybit_payload("ws_ticker_linear")["data"], "ticker")
    assert Decimal(ticker["lastPrice"]) == sim.exchange.replay.price("BTCUSDT")
    funding = await client.public("/v5/market/funding/history", category="linear",
                                  symbol="BTCUSDT", limit="2")
    recorded = bybit_payload("http_get_funding_history")["result"]["list"][0]
    assert set(funding["result"]["list"][0]) == set(recorded)
    assert int(funding["result"]["list"][0]["fundingRateTimestamp"]) % (8 * 3_600_000) == 0


async def test_auth_errors_use_bybit_codes(client: Client) -> None:
    query = "category=linear&symbol=BTCUSDT"
    status, headers, body = await client.get(MAIN, "/v5/position/list", query,
                                             secret="wrong-secret")
    assert (status, body["retCode"]) == (200, 10004)
    assert set(body) == ENVELOPE
    _, _, body = await client.get(MAIN, "/v5/position/list", query,
                                  ts=int(time.time() * 1000) - 60_000)
    assert body["retCode"] == 10002 and "recv_window" in body["retMsg"]
    _, _, body = await client.get(MAIN, "/v5/position/list", query,
                                  ts=int(time.time() * 1000) + 5_000)
    assert body["retCode"] == 10002
    from alphadesk.simulator import SimAccount

    stranger = SimAccount("nobody", "x")
    _, _, body = await client.get(stranger, "/v5/position/list", query)
    assert body["retCode"] == 10003
    status, headers, body = await client.get(MAIN, "/v5/position/list", query)
    assert body["retCode"] == 0
    assert headers["X-Bapi-Limit"] == "50"
    assert int(headers["X-Bapi-Limit-Status"]) == 49
    assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) > time.time() * 1000 - 1000


async def test_market_order_fills_at_the_replay_price_with_the_taker_fee(
    client: Client, sim: Simulator, bybit_payload: Callable[[str], Any]
) -> None:
    price = sim.exchange.replay.price("BTCUSDT")
    placed = await client.ok_post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
        "qty": "0.010", "orderLinkId": "bot1-entry-1"})
    assert set(placed) == {"orderId", "orderLinkId"} and placed["orderLinkId"] == "bot1-entry-1"
    result = await client.ok_get(MAIN, "/v5/execution/list", "category=linear")
    (execution,) = result["list"]
    assert_fields(execution, bybit_payload("http_get_executions")["result"]["list"][0], "exec")
    assert Decimal(execution["execPrice"]) == price
    assert Decimal(execution["execFee"]) == Decimal("0.010") * price * Decimal("0.00055")
    assert execution["isMaker"] is False and execution["orderId"] == placed["orderId"]
    positions = await client.ok_get(MAIN, "/v5/position/list", "category=linear&symbol=BTCUSDT")
    assert_fields(positions["list"][0], bybit_payload("http_get_positions")["result"]["list"][0],
                  "position")
    assert positions["list"][0]["size"] == "0.01" and positions["list"][0]["side"] == "Buy"
    wallet = await client.ok_get(MAIN, "/v5/account/wallet-balance", "accountType=UNIFIED")
    rec_wallet = bybit_payload("http_get_wallet_balance")["result"]["list"][0]
    assert_fields({k: v for k, v in wallet["list"][0].items() if k != "coin"},
                  {k: v for k, v in rec_wallet.items() if k != "coin"}, "wallet")
    assert set(wallet["list"][0]["coin"][0]) >= set(rec_wallet["coin"][1])
    other = await client.ok_get(OTHER, "/v5/execution/list", "category=linear")
    assert other["list"] == []


async def test_resting_limit_fills_as_maker_at_its_price_when_the_replay_reaches_it(
    client: Client, sim: Simulator, btc_csv: Path
) -> None:
    data = [r for r in rows(btc_csv) if int(r[0]) >= sim.now_ms]
    last = sim.exchange.replay.price("BTCUSDT")
    low = min(Decimal(r[3]) for r in data[:12])
    target = (last + low) / 2
    target = target.quantize(Decimal("0.1"))
    assert low < target < last
    placed = await client.ok_post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
        "qty": "0.002", "price": str(target), "timeInForce": "GTC"})
    open_orders = await client.ok_get(MAIN, "/v5/order/realtime", "category=linear")
    assert [o["orderId"] for o in open_orders["list"]] == [placed["orderId"]]
    assert open_orders["list"][0]["orderStatus"] == "New"
    sim.advance(12)
    result = await client.ok_get(MAIN, "/v5/execution/list", "category=linear")
    (fill,) = result["list"]
    assert Decimal(fill["execPrice"]) == target and fill["isMaker"] is True
    assert Decimal(fill["execFee"]) == Decimal("0.002") * target * Decimal("0.0002")
    history = await client.ok_get(MAIN, "/v5/order/history",
                                  f"category=linear&orderId={placed['orderId']}")
    assert history["list"][0]["orderStatus"] == "Filled"


async def test_execution_list_pages_by_cursor_and_refuses_a_long_span(client: Client) -> None:
    for i in range(5):
        await client.ok_post(MAIN, "/v5/order/create", {
            "category": "linear", "symbol": "BTCUSDT", "side": "Buy" if i % 2 == 0 else "Sell",
            "orderType": "Market", "qty": "0.001", "orderLinkId": f"page-{i}"})
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        query = "category=linear&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await client.ok_get(MAIN, "/v5/execution/list", query)
        seen += [e["orderLinkId"] for e in page["list"]]
        pages += 1
        cursor = page["nextPageCursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"page-{i}" for i in range(4, -1, -1)]
    _, _, body = await client.get(MAIN, "/v5/execution/list", "category=linear&limit=101")
    assert body["retCode"] == 10001
    week = 7 * 86_400_000
    _, _, body = await client.get(MAIN, "/v5/execution/list",
                                  f"category=linear&startTime=0&endTime={week + 1}")
    assert body["retCode"] == 10001 and "7 days" in body["retMsg"]
    closed = await client.ok_get(MAIN, "/v5/position/closed-pnl", "category=linear")
    assert len(closed["list"]) == 2  # sells 1 and 3 each closed 0.001
    assert {c["side"] for c in closed["list"]} == {"Sell"}


async def test_cancel_amend_and_errors(client: Client, sim: Simulator) -> None:
    price = sim.exchange.replay.price("BTCUSDT")
    far = str((price * Decimal("0.5")).quantize(Decimal("0.1")))
    placed = await client.ok_post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
        "qty": "0.001", "price": far, "orderLinkId": "amend-me"})
    amended = await client.ok_post(MAIN, "/v5/order/amend", {
        "category": "linear", "symbol": "BTCUSDT", "orderLinkId": "amend-me", "qty": "0.002"})
    assert amended["orderId"] == placed["orderId"]
    view = await client.ok_get(MAIN, "/v5/order/realtime", "category=linear&orderLinkId=amend-me")
    assert view["list"][0]["qty"] == "0.002"
    cancelled = await client.ok_post(MAIN, "/v5/order/cancel", {
        "category": "linear", "symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert cancelled["orderId"] == placed["orderId"]
    _, _, again = await client.post(MAIN, "/v5/order/cancel", {
        "category": "linear", "symbol": "BTCUSDT", "orderId": placed["orderId"]})
    assert again["retCode"] == 110001
    for i in range(2):
        await client.ok_post(MAIN, "/v5/order/create", {
            "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.001", "price": far, "orderLinkId": f"all-{i}"})
    result = await client.ok_post(MAIN, "/v5/order/cancel-all", {"category": "linear"})
    assert sorted(o["orderLinkId"] for o in result["list"]) == ["all-0", "all-1"]
    _, _, reduce = await client.post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Market",
        "qty": "0.001", "reduceOnly": True})
    assert reduce["retCode"] in (0, 110017)
    _, _, bad_qty = await client.post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
        "qty": "0.0001"})
    assert bad_qty["retCode"] != 0
    await client.ok_post(MAIN, "/v5/position/set-leverage", {
        "category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"})
    _, _, same = await client.post(MAIN, "/v5/position/set-leverage", {
        "category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"})
    assert same["retCode"] == 110043


async def test_account_endpoints_and_withdraw_permission(
    client: Client, bybit_payload: Callable[[str], Any]
) -> None:
    api = await client.ok_get(WITHDRAWER, "/v5/user/query-api")
    recorded = bybit_payload("http_get_user_query_api")["result"]
    assert set(api) >= set(recorded)
    assert "Withdraw" in api["permissions"]["Wallet"] and api["apiKey"] == WITHDRAWER.key
    plain = await client.ok_get(MAIN, "/v5/user/query-api")
    assert "Withdraw" not in plain["permissions"]["Wallet"]
    info = await client.ok_get(MAIN, "/v5/account/info")
    assert set(info) == set(bybit_payload("http_get_account_info")["result"])
    fees = await client.ok_get(MAIN, "/v5/account/fee-rate", "category=linear&symbol=BTCUSDT")
    assert fees["list"] == [{"symbol": "BTCUSDT", "takerFeeRate": "0.00055",
                             "makerFeeRate": "0.0002", "baseCoin": ""}]
    coins = await client.ok_get(MAIN, "/v5/asset/coin/query-info")
    assert {r["coin"] for r in coins["rows"]} == {"BTC", "ETH", "USDT"}


async def test_rest_faults_in_process_and_over_http(client: Client, sim: Simulator) -> None:
    sim.faults.rate_limit(2)
    for _ in range(2):
        status, headers, body = await client.get(MAIN, "/v5/position/list",
                                                 "category=linear&symbol=BTCUSDT")
        assert body["retCode"] == 10006 and headers["X-Bapi-Limit-Status"] == "0"
    _, _, body = await client.get(MAIN, "/v5/position/list", "category=linear&symbol=BTCUSDT")
    assert body["retCode"] == 0
    async with client.session.post(f"{sim.base_url}/sim/faults",
                                   json={"fault": "server_error", "count": 1,
                                         "status": 502}) as resp:
        assert resp.status == 200
    status, _, body = await client.get(MAIN, "/v5/account/info")
    assert status == 502 and body is None
    assert sim.faults.rest_hits == {"/v5/position/list": 2, "/v5/account/info": 1}
    sim.faults.timestamp_error(1)
    public = await client.public("/v5/market/time")  # unsigned requests are not hit by 10002
    assert public["retCode"] == 0
    _, _, body = await client.get(MAIN, "/v5/account/info")
    assert body["retCode"] == 10002
    _, _, body = await client.get(MAIN, "/v5/account/info")
    assert body["retCode"] == 0
    async with client.session.post(f"{sim.base_url}/sim/advance", json={"bars": 2}) as resp:
        state = await resp.json()
    assert state["ticks"] == 16 and state["nowMs"] == sim.now_ms


async def test_funding_settles_every_eight_hours_as_an_execution(
    client: Client, sim: Simulator, market_csv: Callable[[str], Path]
) -> None:
    """At the recorded rate: the bundled ETHUSDT funding history sits beside its candles."""
    recorded_rates = {
        int(r[0]): Decimal(r[1])
        for r in rows(market_csv("ETHUSDT_8h_funding_bybit-perp-20250924-20260721"))
    }
    await client.ok_post(MAIN, "/v5/order/create", {
        "category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market",
        "qty": "0.10"})
    boundary = (sim.now_ms // (8 * 3_600_000) + 1) * 8 * 3_600_000
    sim.advance_to(boundary + 300_000)
    result = await client.ok_get(MAIN, "/v5/execution/list", "category=linear&execType=Funding")
    (funding,) = result["list"]
    assert funding["execType"] == "Funding" and funding["symbol"] == "ETHUSDT"
    assert int(funding["execTime"]) == boundary
    rate = recorded_rates[boundary]
    assert rate != Decimal("0.0001")  # not the constant fallback
    assert Decimal(funding["execFee"]) == Decimal(funding["execQty"]) * Decimal(
        funding["execPrice"]) * rate
    served = await client.public("/v5/market/funding/history", category="linear",
                                 symbol="ETHUSDT", limit="1")
    (newest,) = served["result"]["list"]
    assert (int(newest["fundingRateTimestamp"]), Decimal(newest["fundingRate"])) == (
        boundary, rate)
    async with client.session.post(f"{sim.base_url}/sim/faults", json={"fault": "nope"}) as resp:
        assert resp.status == 400
