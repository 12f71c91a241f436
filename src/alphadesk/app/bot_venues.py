"""The two venues a bot runs on, each wrapped to the driver's :class:`LiveVenue` shape.

``PaperVenueAdapter``: the paper venue (the shared matching engine) on replayed candles, with the
replay clock the venue stamps its events with. ``BybitVenueAdapter``: the Bybit adapter's REST
calls, with Bybit's error classes turned into the driver's two outcomes (a definite refusal is an
``InvalidField``; anything else is an unknown outcome the driver resolves by orderLinkId).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from alphadesk.adapters.bybit import BybitClient, BybitError
from alphadesk.adapters.bybit.errors import Action
from alphadesk.adapters.bybit.parse_market import bar_from_row, interval_code
from alphadesk.adapters.bybit.schemas import KlineResult
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange, PaperVenue
from alphadesk.domain import order_link
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.orders import Order
from alphadesk.domain.positions import Position
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.ports import LiveVenue


class ReplayClock:
    """Replayed time, set by the replay loop: the paper venue stamps events with it."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def set(self, ms: int) -> None:
        self.ms = ms

    def now(self) -> datetime:
        return from_epoch_ms("clock", self.ms)


class PaperVenueAdapter(LiveVenue):
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
        stops that :class:`~alphadesk.app.paper_book.PaperBook` gives back next must not see a
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


class BybitVenueAdapter(LiveVenue):
    def __init__(self, client: BybitClient) -> None:
        self.client = client
        self.venue = "bybit"
        self.account = client.config.account

    async def place_order(self, request: OrderRequest) -> Order | None:
        try:
            await self.client.trading.create_order(request)
        except BybitError as exc:
            if exc.action is Action.REJECT:
                raise InvalidField("order", request.order_link_id, str(exc)) from exc
            raise
        return None

    async def cancel_order(self, request: CancelRequest) -> None:
        await self.client.trading.cancel_order(request)

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        await self.client.trading.set_trading_stop(request)

    async def find_order(self, symbol: str, order_link_id: str) -> Order | None:
        found = await self.client.trading.open_orders(symbol, order_link_id=order_link_id)
        return found[0] if found else None


async def recent_closed_bars(
    client: BybitClient, symbol: str, interval_min: int, count: int
) -> list[Bar]:
    """The newest ``count`` closed bars, oldest first, anchored on the venue's latest bar.

    Asks without a time range first (the venue's own "now": a simulator replays the past, so
    the wall clock cannot anchor the range), drops the forming bar, then pages further back by
    time when more is needed.
    """
    if count <= 0:
        return []
    reply = await client.rest.get(
        "publicGetV5MarketKline",
        {
            "category": "linear",
            "symbol": symbol,
            "interval": interval_code(interval_min),
            "limit": min(count + 1, 1000),
        },
        endpoint="/v5/market/kline",
        result_type=KlineResult,
    )
    bars = sorted(
        (bar_from_row(row, symbol, interval_min) for row in reply.result.list),
        key=lambda b: b.open_time_ms,
    )
    if bars:
        bars = bars[:-1]  # the newest row is the bar still forming
    missing = count - len(bars)
    if missing > 0 and bars and len(reply.result.list) >= 1000:
        span = interval_min * 60_000
        oldest = bars[0].open_time_ms
        older = await client.market.klines(
            symbol,
            interval_min,
            from_epoch_ms("start", oldest - missing * span),
            from_epoch_ms("end", oldest - 1),
            closed_only=False,
        )
        bars = older + bars
    return bars[-count:]
