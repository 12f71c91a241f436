"""The paper venue: async operations over the engine, events delivered per account."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from alphadesk.adapters.sim.clock import SimClock
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import OrderStatus, OrderType, Side
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

from .kit import MIN5, SYM, T0

D = Decimal


async def test_paper_venue_round_trip(instruments: dict[str, Instrument]) -> None:
    clock = SimClock(T0)
    exchange = PaperExchange(MatchingEngine("paper", instruments.values()), clock)
    queue: asyncio.Queue[SimEvent] = asyncio.Queue()
    other: list[SimEvent] = []
    venue = exchange.venue("bot-a", D(10_000), queue)
    exchange.venue("bot-b", D(10_000), other.append)
    await exchange.on_price(SYM, D(50_000))

    order = await venue.submit(OrderRequest("a", SYM, Side.BUY, D("0.1"), "p1"))
    assert order.status is OrderStatus.FILLED and venue.name == "paper"
    fill = queue.get_nowait()
    assert isinstance(fill, Fill) and fill.account == "bot-a" and fill.price == D(50_000)
    assert isinstance(queue.get_nowait(), OrderUpdated)

    await venue.set_trading_stop(TradingStopRequest("a", SYM, stop_loss=D(49_000)))
    limit = OrderRequest(
        "a", SYM, Side.BUY, D("0.1"), "p2", order_type=OrderType.LIMIT, price=D(48_000)
    )
    resting = await venue.submit(limit)
    assert [o.order_id for o in await venue.open_orders()] == [resting.order_id]
    queue.get_nowait()
    cancelled = await venue.cancel(CancelRequest("a", SYM, order_link_id="p2"))
    assert cancelled.status is OrderStatus.CANCELLED
    queue.get_nowait()

    clock.set(T0 + MIN5)
    await exchange.on_bar(Bar(SYM, 5, T0 + MIN5, 50_000.0, 50_100.0, 48_500.0, 48_700.0, 1.0))
    stop = queue.get_nowait()
    assert isinstance(stop, Fill) and stop.close_reason == "StopLoss" and stop.price == D(49_000)
    assert await venue.positions() == []
    wallet = await venue.wallet()
    assert wallet.wallet_balance < D(10_000) and wallet.account == "bot-a"
    assert other == []  # bot-b traded nothing and heard nothing
