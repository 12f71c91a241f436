"""The paper venue: live or replayed prices, simulated fills, the same async surface as a real one.

:class:`PaperExchange` owns one :class:`MatchingEngine` and a clock, takes prices and bars, and
hands each account's events (fills, order updates, snapshots) to that account's subscriber, in
the order the engine produced them. :class:`PaperVenue` is one account's view, with the venue
operations the router calls. The engine itself is synchronous; these awaitables exist so a paper
venue can stand wherever a network venue stands.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from alphadesk.adapters.sim.core import FillLabeler
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.adapters.sim.requests import AmendRequest, SimOrderRequest
from alphadesk.domain import checks
from alphadesk.domain.bars import Bar
from alphadesk.domain.events import PositionReported, WalletReported
from alphadesk.domain.orders import Order
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.ports import Clock

Subscriber = Callable[[SimEvent], Awaitable[None] | None] | asyncio.Queue[SimEvent]


class PaperExchange:
    def __init__(self, engine: MatchingEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._subscribers: dict[str, Subscriber] = {}

    def now_ms(self) -> int:
        return checks.to_epoch_ms(self.clock.now())

    def venue(self, account: str, balance: Decimal, subscriber: Subscriber) -> PaperVenue:
        """Open ``account`` with ``balance`` and deliver its events to ``subscriber``."""
        self.engine.open_account(account, balance)
        self._subscribers[account] = subscriber
        return PaperVenue(self, account)

    def serve_engine(self, labeler: FillLabeler) -> None:
        """Every subscriber is an engine that folds each fill it is handed (the paper bot's one
        account): as for the backtest venue, each fill is made with the engine's close reason
        (``labeler``: its ``fill_label``, instead of a relabelled copy per fill) and a completely
        filled order's ``Filled`` update is left out (its fills, just before, settle the order;
        the command's ``Outcome.order`` still returns the final snapshot). Not for a venue whose
        listeners need every order update (the Bybit simulator's streams)."""
        self.engine.label_fills(labeler)
        self.engine.report_filled(False)

    async def on_price(self, symbol: str, price: Decimal) -> None:
        await self.deliver(self.engine.on_price(symbol, price, self.now_ms()))

    async def on_bar(self, bar: Bar) -> None:
        await self.deliver(self.engine.on_candle(bar))

    async def deliver(self, events: Sequence[SimEvent]) -> None:
        for event in events:
            subscriber = self._subscribers.get(event.account)
            if subscriber is None:
                continue
            if isinstance(subscriber, asyncio.Queue):
                await subscriber.put(event)
            else:
                result = subscriber(event)
                if inspect.isawaitable(result):
                    await result


class PaperVenue:
    """One account on the paper exchange: the operations the router needs."""

    def __init__(self, exchange: PaperExchange, account: str) -> None:
        self._exchange = exchange
        self.account = account

    @property
    def name(self) -> str:
        return self._exchange.engine.venue

    async def submit(self, request: OrderRequest | SimOrderRequest) -> Order:
        """Place an order; refusals raise ``OrderRejected`` (an ``InvalidField``)."""
        ex = self._exchange
        outcome = ex.engine.place(self.account, request, ex.now_ms())
        await ex.deliver(outcome.events)
        assert outcome.order is not None
        return outcome.order

    async def cancel(self, request: CancelRequest) -> Order:
        ex = self._exchange
        outcome = ex.engine.cancel(self.account, request, ex.now_ms())
        await ex.deliver(outcome.events)
        assert outcome.order is not None
        return outcome.order

    async def amend(self, request: AmendRequest) -> Order:
        ex = self._exchange
        outcome = ex.engine.amend(self.account, request, ex.now_ms())
        await ex.deliver(outcome.events)
        assert outcome.order is not None
        return outcome.order

    async def cancel_all(self, symbol: str | None = None) -> None:
        ex = self._exchange
        await ex.deliver(ex.engine.cancel_all(self.account, ex.now_ms(), symbol).events)

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        ex = self._exchange
        await ex.deliver(ex.engine.set_trading_stop(self.account, request, ex.now_ms()).events)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [v.order for v in self._exchange.engine.open_orders(self.account, symbol)]

    async def positions(self) -> list[PositionReported]:
        return self._exchange.engine.positions(self.account)

    async def wallet(self) -> WalletReported:
        return self._exchange.engine.wallet(self.account)
