"""Placing orders safely against the simulator: a lost reply, Bybit's rate limit, and the
direction of a conditional order's trigger."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.adapters.bybit import BybitClient
from alphadesk.adapters.bybit.trading import FALLING, RISING, order_params
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderStatus, OrderType, Side
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import OrderRequest

D = Decimal
ACCOUNT = "shortseller"


def request(
    side: Side = Side.BUY,
    qty: str = "0.005",
    *,
    price: Decimal | None = None,
    trigger: Decimal | None = None,
) -> OrderRequest:
    link = order_link.encode("shortseller_001", Purpose.ENTRY)
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderRequest(
        "shortseller_001", "BTCUSDT", side, D(qty), link, kind, price=price, trigger_price=trigger
    )


def last_price(sim: Any) -> Decimal:
    return Decimal(sim.exchange.replay.price("BTCUSDT"))


def far_below(sim: Any) -> Decimal:
    return (last_price(sim) / 2).quantize(D("0.1"))


# --- a lost reply ---------------------------------------------------------------------------------


async def test_reply_lost_after_the_order_was_placed_acks_the_existing_order(
    client: BybitClient, sim: Any
) -> None:
    sim.faults.lose_reply(1, status=502, path="/v5/order/create")
    sent = request()
    ack = await client.trading.create_order(sent)
    placed = sim.exchange.engine.order_history(ACCOUNT, "BTCUSDT")
    assert [v.order.order_link_id for v in placed] == [sent.order_link_id]  # exactly one order
    assert (ack.order_id, ack.order_link_id) == (placed[0].order.order_id, sent.order_link_id)
    assert client.stats.retries == 1  # the resend met 110072 and looked the order up
    assert client.stats.by_endpoint["/v5/order/realtime"] == 1


# --- rate limits ----------------------------------------------------------------------------------


async def test_the_gate_keeps_sequential_orders_under_the_limit(
    client: BybitClient, sim: Any
) -> None:
    limit = sim.exchange.rate_windows.limits.group("/v5/order/create").per_second
    assert limit == 10  # Bybit's non-VIP default for linear order creation
    price = far_below(sim)
    for _ in range(limit + 2):
        await client.trading.create_order(request(qty="0.001", price=price))
    assert len(sim.exchange.engine.open_orders(ACCOUNT, "BTCUSDT")) == limit + 2
    assert sim.exchange.rate_windows.refused == 0 and client.stats.rate_limited == 0
    assert client.stats.gate_waits >= 1  # it waited for the window instead of earning a 10006


async def test_a_burst_over_the_limit_backs_off_to_the_reset_and_succeeds(
    client: BybitClient, sim: Any
) -> None:
    limit = sim.exchange.rate_windows.limits.group("/v5/order/create").per_second
    burst = limit + 4
    price = far_below(sim)
    requests = [request(qty="0.001", price=price) for _ in range(burst)]
    acks = await asyncio.gather(*(client.trading.create_order(r) for r in requests))
    open_orders = sim.exchange.engine.open_orders(ACCOUNT, "BTCUSDT")
    assert sorted(v.order.order_link_id for v in open_orders) == sorted(
        r.order_link_id for r in requests
    )  # every order placed, none twice
    assert {a.order_id for a in acks} == {v.order.order_id for v in open_orders}
    refused = sim.exchange.rate_windows.refused
    assert 1 <= refused <= burst - limit  # Bybit really refused part of the burst (10006)...
    assert client.stats.rate_limited == refused  # ...the adapter saw every refusal...
    assert client.stats.retries == refused  # ...and each retry waited for the reset: none was
    # refused twice (without the wait, a retry lands in the same exhausted window)


# --- trigger direction ----------------------------------------------------------------------------


def test_order_params_takes_an_explicit_direction_and_refuses_nonsense() -> None:
    buy = request(trigger=D("50000"))
    assert order_params(buy, trigger_direction=FALLING)["triggerDirection"] == 2
    assert order_params(buy)["triggerDirection"] == 1  # no market known: the side decides
    with pytest.raises(ValueError, match="trigger_direction"):
        order_params(buy, trigger_direction=3)


@pytest.mark.parametrize(
    ("side", "above", "expected"),
    [
        (Side.BUY, False, FALLING),  # buy the dip: the price must fall to the trigger
        (Side.BUY, True, RISING),  # buy stop: breakout above the market
        (Side.SELL, True, RISING),  # sell the rally
        (Side.SELL, False, FALLING),  # sell stop
    ],
)
async def test_conditional_order_direction_follows_the_market(
    client: BybitClient, sim: Any, side: Side, above: bool, expected: int
) -> None:
    last = last_price(sim)
    trigger = (last * (D("1.05") if above else D("0.95"))).quantize(D("0.1"))
    ack = await client.trading.create_order(request(side, "0.001", trigger=trigger))
    view = sim.exchange.engine.order(ACCOUNT, order_id=ack.order_id)
    assert view.trigger_direction == expected
    assert view.order.status is OrderStatus.UNTRIGGERED  # it waits; it did not fire at once
    assert client.stats.by_endpoint["/v5/market/tickers"] == 1


async def test_an_explicit_direction_skips_the_ticker(client: BybitClient, sim: Any) -> None:
    trigger = (last_price(sim) * D("0.95")).quantize(D("0.1"))
    ack = await client.trading.create_order(
        request(Side.BUY, "0.001", trigger=trigger), trigger_direction=FALLING
    )
    assert sim.exchange.engine.order(ACCOUNT, order_id=ack.order_id).trigger_direction == 2
    assert "/v5/market/tickers" not in client.stats.by_endpoint
