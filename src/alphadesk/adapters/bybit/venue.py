"""The Bybit adapter in the driver's shape, and the warm-up's recent closed bars.

:class:`BybitVenueAdapter` implements :class:`~alphadesk.engine.ports.LiveVenue` structurally (no
base class), turning Bybit's error classes into the driver's two outcomes: a definite refusal is
an ``InvalidField``; anything else is an unknown outcome the driver resolves by orderLinkId.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alphadesk.adapters.bybit.client import BybitClient
from alphadesk.adapters.bybit.errors import Action, BybitError
from alphadesk.adapters.bybit.parse_market import bar_from_row, interval_code
from alphadesk.adapters.bybit.schemas import KlineResult
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.orders import Order
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

if TYPE_CHECKING:
    from alphadesk.engine.ports import LiveVenue


class BybitVenueAdapter:
    """The Bybit adapter's REST calls as the driver's ``LiveVenue`` (by shape)."""

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


if TYPE_CHECKING:  # mypy checks the shape: a LiveVenue by structure, not by subclassing
    _conforms: type[LiveVenue] = BybitVenueAdapter


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
