"""The adapter's REST side over real sockets against the simulator (no mocks, no network)."""

from __future__ import annotations

import csv
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphadesk.adapters.bybit import (
    Action,
    AuthenticationFailed,
    BybitClient,
    BybitUnavailable,
    DuplicateOrderLinkId,
    InsufficientBalance,
    OrderNotFound,
    RateLimited,
    ReduceOnlyRejected,
    RetryPolicy,
    UnsafeApiKey,
)
from alphadesk.domain import order_link
from alphadesk.domain.bars import MINUTE_MS
from alphadesk.domain.enums import OrderStatus, OrderType, Side
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.simulator.ratelimits import RateLimits

from .simkit import BTC_5M, FAST, RISKY_KEY, RISKY_SECRET, SECRET, account_config

D = Decimal


def sim_now(sim: Any) -> datetime:
    return datetime.fromtimestamp(sim.now_ms / 1000, tz=UTC)


def market(side: Side, qty: str, purpose: Purpose = Purpose.ENTRY, **kw: Any) -> OrderRequest:
    link = order_link.encode("shortseller_001", purpose, **kw)
    return OrderRequest("shortseller_001", "BTCUSDT", side, D(qty), link)


async def test_instruments_match_the_simulators_rules(client: BybitClient, sim: Any) -> None:
    (instrument,) = await client.market.instruments()
    expected = sim.exchange.instruments["BTCUSDT"]
    assert instrument == expected
    assert isinstance(instrument.tick_size, Decimal) and instrument.min_notional == D("5")
    assert await client.market.instruments("BTCUSDT") == [expected]


async def test_klines_over_a_long_range_page_backwards(
    client: BybitClient, sim: Any, market_csv: Any
) -> None:
    end = sim_now(sim) - timedelta(minutes=5)  # the forming candle is not history
    start = end - timedelta(days=10)  # 2881 bars: three pages of at most 1000
    bars = await client.market.klines("BTCUSDT", 5, start, end, closed_only=False)
    assert len(bars) == 2881
    steps = {b.open_time_ms - a.open_time_ms for a, b in itertools.pairwise(bars)}
    assert steps == {5 * MINUTE_MS}
    assert client.rest.stats.by_endpoint["/v5/market/kline"] >= 3
    text = Path(market_csv(BTC_5M)).read_text()  # noqa: ASYNC240 - a small local file
    rows = {int(r[0]): r for r in csv.reader(text.splitlines()) if r[0].isdigit()}
    for bar in (bars[0], bars[1234], bars[-1]):
        _, o, h, low, c, _ = rows[bar.open_time_ms]
        assert (bar.open, bar.high, bar.low, bar.close) == (
            float(o),
            float(h),
            float(low),
            float(c),
        )


async def test_place_amend_cancel_limit_order(client: BybitClient, sim: Any) -> None:
    ticker = await client.market.ticker("BTCUSDT")
    assert ticker.last_price is not None
    (instrument,) = await client.market.instruments("BTCUSDT")
    price = instrument.round_price(ticker.last_price * D("0.9"), Side.BUY)
    link = order_link.encode("shortseller_001", Purpose.ENTRY)
    request = OrderRequest(
        "shortseller_001", "BTCUSDT", Side.BUY, D("0.010"), link, OrderType.LIMIT, price
    )
    ack = await client.trading.create_order(request)
    assert ack.order_link_id == link and ack.order_id

    (open_order,) = await client.trading.open_orders("BTCUSDT")
    assert (open_order.order_id, open_order.price, open_order.qty) == (
        ack.order_id,
        price,
        D("0.010"),
    )
    assert (open_order.bot_id, open_order.status) == ("shortseller_001", OrderStatus.NEW)

    new_price = price - instrument.tick_size * 10
    amended = await client.trading.amend_order("BTCUSDT", order_id=ack.order_id, price=new_price)
    assert amended.order_id == ack.order_id
    (after_amend,) = await client.trading.open_orders("BTCUSDT")
    assert after_amend.price == new_price

    with pytest.raises(DuplicateOrderLinkId) as dup:
        await client.trading.create_order(request)
    assert dup.value.ret_code == 110072 and dup.value.action is Action.REJECT

    cancelled = await client.trading.cancel_order(
        CancelRequest("shortseller_001", "BTCUSDT", ack.order_id)
    )
    assert cancelled.order_id == ack.order_id
    assert await client.trading.open_orders("BTCUSDT") == []
    now = sim_now(sim)
    history = await client.trading.order_history(now - timedelta(days=1), now, symbol="BTCUSDT")
    assert [(o.order_id, o.status) for o in history] == [(ack.order_id, OrderStatus.CANCELLED)]


async def test_fills_history_pages_and_windows(client: BybitClient, sim: Any) -> None:
    # 6 creates a week against 5 per 2 s: the fifth answer says none are left however busy the
    # machine (a busy one may take longer than Bybit's 1 s window to send 10)
    sim.exchange.rate_windows.limits = RateLimits.orders(5, window_ms=2_000)
    links = []
    for week in range(2):
        for i in range(6):
            side = Side.BUY if i % 2 == 0 else Side.SELL
            links.append((await client.trading.create_order(market(side, "0.001"))).order_link_id)
        if week == 0:
            sim.advance(8 * 288)  # eight days of 5-minute bars: the fills span two windows
    # the limit headers made the client wait instead of earning a 10006
    assert client.rest.stats.gate_waits >= 1 and client.rest.stats.rate_limited == 0
    now = sim_now(sim)
    fills = await client.history.executions(
        now - timedelta(days=20), now + timedelta(minutes=1), page_size=5
    )
    assert sorted(f.order_link_id for f in fills) == sorted(links)  # each once
    assert {f.order_link_id for f in fills[:6]} == set(links[:6])  # oldest first
    assert [f.exec_time for f in fills] == sorted(f.exec_time for f in fills)
    assert all(f.bot_id == "shortseller_001" and f.close_reason == "entry" for f in fills)
    assert fills[6].exec_time - fills[5].exec_time >= timedelta(days=8)
    # 3 windows; the first holds no fill (1 call), the others 6 each (pages of 5, 1): 5 calls
    assert client.rest.stats.by_endpoint["/v5/execution/list"] == 5
    engine = sim.exchange.engine.executions("shortseller", start_ms=0, end_ms=sim.now_ms + 1)
    engine_fills = {e.fill.exec_id: e.fill for e in engine.items}
    assert set(engine_fills) == {f.exec_id for f in fills}
    for fill in fills:
        assert (fill.price, fill.qty, fill.fee) == (
            engine_fills[fill.exec_id].price,
            engine_fills[fill.exec_id].qty,
            engine_fills[fill.exec_id].fee,
        )
    sells = await client.history.executions(
        now - timedelta(days=20), now, symbol="BTCUSDT", page_size=5
    )
    assert len(sells) == 12


async def test_closed_pnl_after_a_round_trip(client: BybitClient, sim: Any) -> None:
    await client.trading.create_order(market(Side.BUY, "0.010"))
    sim.advance(12)
    await client.trading.create_order(market(Side.SELL, "0.010", Purpose.TAKE_PROFIT, level=1))
    now = sim_now(sim)
    fills = await client.history.executions(now - timedelta(days=1), now + timedelta(minutes=1))
    entry, exit_ = sorted(fills, key=lambda f: f.side is Side.SELL)
    (record,) = await client.history.closed_pnl(now - timedelta(days=1), now + timedelta(minutes=1))
    assert record.side is Side.SELL and record.qty == D("0.010")
    assert record.avg_entry_price == entry.price and record.avg_exit_price == exit_.price
    gross = (exit_.price - entry.price) * D("0.010")
    assert record.closed_pnl == gross - entry.fee - exit_.fee
    assert exit_.close_reason == "take_profit_1" and exit_.closed_size == D("0.010")


async def test_positions_wallet_and_fees(client: BybitClient) -> None:
    await client.trading.create_order(market(Side.SELL, "0.020"))
    (position,) = await client.trading.positions("BTCUSDT")
    assert (position.side, position.size, position.signed_size) == (
        Side.SELL,
        D("0.020"),
        D("-0.020"),
    )
    wallet = await client.account.wallet()
    assert wallet.account == "shortseller" and wallet.equity < D("10000")
    rates = await client.account.fee_rates("BTCUSDT")
    assert rates and rates[0].taker > 0


async def test_rate_limit_backs_off_then_succeeds(client: BybitClient, sim: Any) -> None:
    sim.faults.rate_limit(2, path="/v5/market/tickers")
    ticker = await client.market.ticker("BTCUSDT")
    assert ticker.symbol == "BTCUSDT"
    assert client.rest.stats.rate_limited == 2 and client.rest.stats.retries == 2


async def test_rate_limit_that_persists_is_raised_with_its_code(sim: Any) -> None:
    sim.faults.rate_limit(10, path="/v5/market/tickers")
    policy = RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.05)
    async with BybitClient(account_config(sim), policy=policy) as client:
        with pytest.raises(RateLimited) as info:
            await client.market.ticker("BTCUSDT")
    assert info.value.ret_code == 10006 and info.value.action is Action.BACK_OFF
    assert info.value.attempts == 2
    assert client.rest.stats.gate_waits == 1  # the retry waited for the window to reset


async def test_timestamp_error_resyncs_the_clock_and_retries(client: BybitClient, sim: Any) -> None:
    await client.trading.create_order(market(Side.SELL, "0.004"))
    sim.faults.timestamp_error(1)
    (position,) = await client.trading.positions()
    assert (position.symbol, position.side, position.size) == ("BTCUSDT", Side.SELL, D("0.004"))
    assert position.account == "shortseller" and position.avg_price > 0
    assert client.rest.stats.resyncs == 1
    assert client.rest.stats.by_endpoint["/v5/market/time"] == 2  # start-up sync + re-sync


async def test_server_errors_are_retried_then_raised(client: BybitClient, sim: Any) -> None:
    sim.faults.server_error(2, status=503, path="/v5/account/wallet-balance")
    assert (await client.account.wallet()).equity > 0
    assert client.rest.stats.retries == 2
    sim.faults.server_error(10, status=502, path="/v5/account/wallet-balance")
    with pytest.raises(BybitUnavailable, match="HTTP 502") as info:
        await client.account.wallet()
    assert info.value.action is Action.RETRY


async def test_withdraw_capable_key_is_refused_at_start(sim: Any) -> None:
    config = account_config(sim, RISKY_KEY, RISKY_SECRET)
    with pytest.raises(UnsafeApiKey) as info:
        await BybitClient.connect(config, policy=FAST)
    message = str(info.value)
    assert "Wallet:Withdraw" in message and info.value.action is Action.HALT
    assert RISKY_SECRET not in message and RISKY_SECRET not in repr(info.value)


async def test_wrong_secret_halts(sim: Any) -> None:
    client = BybitClient(account_config(sim, secret=SECRET + "x"), policy=FAST)
    try:
        await client.rest.sync_clock()
        with pytest.raises(AuthenticationFailed) as info:
            await client.account.wallet()
        assert info.value.ret_code == 10004 and info.value.action is Action.HALT
        assert SECRET not in str(info.value)
        assert client.rest.stats.retries == 0
    finally:
        await client.close()


def test_retry_policy_defaults_are_bounded() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts >= 2 and policy.cap_s <= 10


async def test_leverage_and_trading_stop_with_not_modified_as_success(
    client: BybitClient, sim: Any
) -> None:
    assert await client.trading.set_leverage("BTCUSDT", D("5")) is True
    sim.faults.fail_rest(count=1, ret_code=110043, path="/v5/position/set-leverage")
    assert await client.trading.set_leverage("BTCUSDT", D("5")) is False  # already 5
    await client.trading.create_order(market(Side.BUY, "0.010"))
    (position,) = await client.trading.positions("BTCUSDT")
    stop = (position.avg_price * D("0.95")).quantize(D("0.1"))
    request = TradingStopRequest("shortseller_001", "BTCUSDT", stop_loss=stop)
    assert await client.trading.set_trading_stop(request) is True
    (protected,) = await client.trading.positions("BTCUSDT")
    assert protected.stop_loss == stop
    sim.faults.fail_rest(count=1, ret_code=34040, path="/v5/position/trading-stop")
    assert await client.trading.set_trading_stop(request) is False
    assert client.rest.stats.retries == 0


async def test_bybit_server_error_code_is_retried(client: BybitClient, sim: Any) -> None:
    sim.faults.fail_rest(count=1, ret_code=10016, path="/v5/order/create")
    ack = await client.trading.create_order(market(Side.BUY, "0.001"))
    assert ack.order_id and client.rest.stats.retries == 1
    (fill,) = await client.history.executions(sim_now(sim) - timedelta(hours=1), sim_now(sim))
    assert fill.order_id == ack.order_id  # one order, not two


async def test_rejections_map_to_their_classes(client: BybitClient) -> None:
    with pytest.raises(InsufficientBalance) as info:
        await client.trading.create_order(market(Side.BUY, "50"))  # ~5.7M USDT of BTC
    assert (info.value.ret_code, info.value.action) == (110007, Action.REJECT)
    reduce = OrderRequest(
        "shortseller_001",
        "BTCUSDT",
        Side.SELL,
        D("0.001"),
        order_link.encode("shortseller_001", Purpose.STOP_LOSS),
        reduce_only=True,
    )
    with pytest.raises(ReduceOnlyRejected) as reduce_info:
        await client.trading.create_order(reduce)  # no position to reduce
    assert reduce_info.value.ret_code == 110017
    with pytest.raises(OrderNotFound) as missing:
        await client.trading.cancel_order(CancelRequest("shortseller_001", "BTCUSDT", "nope"))
    assert missing.value.ret_code == 110001
    assert client.rest.stats.retries == 0


async def test_a_skewed_clock_is_corrected_by_resync(client: BybitClient) -> None:
    # Make the signing clock 60 s slow, as a drifted container would be: Bybit answers 10002.
    client.rest.exchange.options["timeDifference"] = 60_000
    wallet = await client.account.wallet()
    assert wallet.equity > 0
    assert client.rest.stats.resyncs == 1
    assert abs(client.rest.exchange.options["timeDifference"]) < 5_000
