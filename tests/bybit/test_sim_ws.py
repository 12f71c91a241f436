"""The adapter's WebSocket side over real sockets against the simulator: typed events,
auth, reconnect with resubscription, and the after-reconnect hook."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.adapters.bybit import (
    Action,
    AuthenticationFailed,
    BybitClient,
    InvalidRequest,
    WsSettings,
)
from alphadesk.adapters.bybit.models import KlineUpdate, PublicTrade, Ticker
from alphadesk.adapters.bybit.streams import public_topics
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderStatus, Side
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import OrderRequest

from .simkit import FAST, SECRET, Collector, account_config

D = Decimal
QUICK = WsSettings(
    ping_interval_s=0.5, silence_timeout_s=5.0, backoff_base_s=0.05, backoff_cap_s=0.2
)


def buy(qty: str = "0.005") -> OrderRequest:
    link = order_link.encode("shortseller_001", Purpose.ENTRY)
    return OrderRequest("shortseller_001", "BTCUSDT", Side.BUY, D(qty), link)


async def test_public_stream_delivers_typed_market_data(client: BybitClient, sim: Any) -> None:
    events = Collector()
    topics = public_topics(["BTCUSDT"], kline_interval_min=5, tickers=True, trades=True)
    assert topics == ["kline.5.BTCUSDT", "tickers.BTCUSDT", "publicTrade.BTCUSDT"]
    await client.public_stream(topics, events, settings=QUICK)
    opening = sim.now_ms
    sim.advance(1)
    closed = await events.wait_for(lambda e: isinstance(e, KlineUpdate) and e.confirmed)
    assert closed.bar.symbol == "BTCUSDT" and closed.bar.interval_min == 5
    expected = sim.exchange.series["BTCUSDT"].candles
    candle = next(c for c in expected if c.start_ms == closed.bar.open_time_ms)
    assert closed.bar.open_time_ms >= opening - 5 * 60_000
    assert (closed.bar.open, closed.bar.close) == (float(candle.open), float(candle.close))
    ticker = await events.wait_for(lambda e: isinstance(e, Ticker))
    assert isinstance(ticker.last_price, Decimal) and ticker.last_price > 0
    trade = await events.wait_for(lambda e: isinstance(e, PublicTrade))
    assert trade.symbol == "BTCUSDT" and isinstance(trade.price, Decimal)


async def test_fills_arrive_on_the_private_stream_and_match_rest(
    client: BybitClient, sim: Any
) -> None:
    events = Collector()
    await client.private_stream(events, settings=QUICK)
    ack = await client.trading.create_order(buy())
    fill = await events.wait_for(lambda e: isinstance(e, Fill))
    assert (fill.order_id, fill.bot_id, fill.close_reason) == (
        ack.order_id,
        "shortseller_001",
        "entry",
    )
    assert (fill.account, fill.venue, fill.qty) == ("shortseller", "bybit", D("0.005"))
    order = await events.wait_for(
        lambda e: isinstance(e, OrderUpdated) and e.order.status is OrderStatus.FILLED
    )
    assert order.order.order_link_id == ack.order_link_id
    position = await events.wait_for(lambda e: isinstance(e, PositionReported))
    assert (position.side, position.size) == (Side.BUY, D("0.005"))
    await events.wait_for(lambda e: isinstance(e, WalletReported))
    (rest_fill,) = await client.history.executions(fill.exec_time, fill.exec_time)
    assert rest_fill == fill  # the same execution over REST decodes to the same Fill


async def test_private_reconnect_resubscribes_and_fires_the_hook(
    client: BybitClient, sim: Any
) -> None:
    events = Collector()
    reconnected = asyncio.Event()
    backfilled: list[Fill] = []

    async def gap_fill() -> None:
        at = datetime.fromtimestamp(sim.now_ms / 1000, tz=UTC)
        backfilled.extend(await client.history.executions(at - timedelta(hours=1), at))
        reconnected.set()

    stream = await client.private_stream(events, on_reconnect=gap_fill, settings=QUICK)
    sim.faults.drop_ws_after(1, channel="private")
    first = await client.trading.create_order(buy())  # its pushes hit the dropped socket
    await asyncio.wait_for(reconnected.wait(), 10)
    assert stream.session.reconnects == 1 and stream.session.connections == 2
    assert first.order_id in {f.order_id for f in backfilled}  # the gap is filled from REST
    second = await client.trading.create_order(buy())
    fill = await events.wait_for(lambda e: isinstance(e, Fill) and e.order_id == second.order_id)
    assert fill.bot_id == "shortseller_001"  # resubscribed: pushes flow again


async def test_public_reconnect_after_client_side_drop(client: BybitClient, sim: Any) -> None:
    events = Collector()
    hook_calls = 0

    async def on_reconnect() -> None:
        nonlocal hook_calls
        hook_calls += 1

    stream = await client.public_stream(
        ["tickers.BTCUSDT"], events, on_reconnect=on_reconnect, settings=QUICK
    )
    await stream.session.drop()
    await stream.session.wait_ready(5)
    await asyncio.sleep(0)
    sim.advance(1)
    await events.wait_for(lambda e: isinstance(e, Ticker) and e.last_price is not None)
    assert stream.session.reconnects >= 1 and hook_calls >= 1


async def test_silence_watchdog_replaces_a_quiet_socket(client: BybitClient, sim: Any) -> None:
    # No ping reply within the silence timeout (the ping interval is longer): reconnect.
    quiet = WsSettings(
        ping_interval_s=30, silence_timeout_s=0.3, backoff_base_s=0.05, backoff_cap_s=0.1
    )
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    stream = await client.private_stream(Collector(), on_reconnect=on_reconnect, settings=quiet)
    await asyncio.wait_for(reconnected.wait(), 5)
    assert stream.session.reconnects >= 1
    await stream.session.wait_ready(5)


async def test_private_stream_with_a_wrong_secret_halts(sim: Any) -> None:
    bybit = BybitClient(account_config(sim, secret=SECRET + "-wrong"), policy=FAST)
    try:
        with pytest.raises(AuthenticationFailed) as info:
            await bybit.private_stream(Collector(), settings=QUICK)
        assert info.value.action is Action.HALT
        assert SECRET not in str(info.value)
        (stream,) = bybit._streams
        assert stream.session.connections == 1  # not retried: the same key cannot succeed
    finally:
        await bybit.close()


async def test_a_refused_subscription_stops_the_stream(client: BybitClient) -> None:
    with pytest.raises(InvalidRequest, match="subscription refused") as info:
        await client.public_stream(["nonsense.topic"], Collector(), settings=QUICK)
    assert info.value.action is Action.REJECT
