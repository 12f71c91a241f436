"""The paper venue (the shared matching engine, in the bot's process) in the driver's shape.

:class:`PaperVenueAdapter` implements :class:`~alphadesk.engine.ports.LiveVenue` structurally
(no base class): orders go to the paper venue, which stamps its events with the replay clock
(:class:`~alphadesk.adapters.sim.clock.ReplayClock`); a restart seeds it with the ledger's open
positions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange, PaperVenue
from alphadesk.domain import order_link
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.orders import Order
from alphadesk.domain.positions import Position
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

if TYPE_CHECKING:
    from alphadesk.engine.ports import LiveVenue


class PaperVenueAdapter:
    """The paper venue as the driver's ``LiveVenue`` (by shape: see :mod:`engine.ports`)."""

    def __init__(self, exchange: PaperExchange, venue: PaperVenue) -> None:
        self.exchange = exchange
        self.paper = venue
        self.venue = exchange.engine.venue
        self.account = venue.account

    async def place_order(self, request: OrderRequest) -> Order | None:
        return await self.paper.submit(request)

    async def cancel_order(self, request: CancelRequest) -> None:
        await self.paper.cancel(request)

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        await self.paper.set_trading_stop(request)

    async def find_order(self, symbol: str, order_link_id: str) -> Order | None:
        engine: MatchingEngine = self.exchange.engine
        try:
            return engine.order(self.account, order_link_id=order_link_id).order
        except InvalidField:
            return None

    def seed(
        self, position: Position, price: Decimal, ts_ms: int, *, last: Decimal | None = None
    ) -> None:
        """Restart: put the ledger's open position back on the in-process paper venue.

        The paper venue lives in the bot's process, so a restart finds it empty. One market
        order at the ledger's average entry recreates it; its events are not delivered (the
        ledger already holds the real fills). The price then moves to ``last`` (the close the
        earlier run ended on), so the next bar starts from where that run's venue stood: the
        stops that :class:`~alphadesk.paper.book.PaperBook` gives back next must not see a
        jump from the entry price that never happened.
        """
        if position.is_flat:
            return
        engine: MatchingEngine = self.exchange.engine
        engine.on_price(position.symbol, price, ts_ms)
        side = Side.BUY if position.qty > 0 else Side.SELL
        request = OrderRequest(
            bot_id=position.bot_id,
            symbol=position.symbol,
            side=side,
            qty=position.size,
            # Unique per position (several are seeded in one process): the codec's bot-manual-nonce
            # id, nonce from the restart time and the process's counter.
            order_link_id=order_link.encode(
                position.bot_id, order_link.Purpose.MANUAL, nonce=order_link.new_nonce(ts_ms)
            ),
        )
        engine.place(self.account, request, ts_ms)
        if last is not None:
            engine.on_price(position.symbol, last, ts_ms)


if TYPE_CHECKING:  # mypy checks the shape: a LiveVenue by structure, not by subclassing
    _conforms: type[LiveVenue] = PaperVenueAdapter
