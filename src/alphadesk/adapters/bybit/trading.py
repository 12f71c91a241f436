"""Orders and positions over REST (linear, one-way mode: ``positionIdx`` 0).

Placing an order is the one non-idempotent call, and it is retried after a server error anyway:
the ``orderLinkId`` makes a resend safe, because Bybit refuses a second order with the same id
(110072). If that refusal comes on a *retry*, the first attempt did reach Bybit, so the existing
order is looked up and acknowledged instead of reporting a failure that did not happen.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.errors import NOT_MODIFIED_CODES, DuplicateOrderLinkId
from alphadesk.adapters.bybit.history import windows
from alphadesk.adapters.bybit.market import MarketData
from alphadesk.adapters.bybit.models import OrderAck
from alphadesk.adapters.bybit.parse import (
    decimal_text,
    order_from_info,
    position_reported,
)
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.wire import utc_ms
from alphadesk.domain import checks
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import PositionReported
from alphadesk.domain.fills import UNKNOWN_BOT
from alphadesk.domain.orders import Order
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

CATEGORY = "linear"
SETTLE_COIN = "USDT"
ORDER_PAGE = 50
POSITION_PAGE = 200
RISING, FALLING = 1, 2


def trigger_direction_for(trigger_price: Decimal, last_price: Decimal | None, side: Side) -> int:
    """Bybit's ``triggerDirection``: 1 fires when the price rises to the trigger, 2 when it falls.

    Which one is meant depends on where the market is, not on the side: a buy stop above the
    market rises to it (1), but a conditional buy *below* the market (buy the dip) falls to it
    (2). Only without a last price, or with the trigger exactly at it, does the side decide, as
    for a stop (buy 1, sell 2).
    """
    if last_price is not None and trigger_price != last_price:
        return RISING if trigger_price > last_price else FALLING
    return RISING if side is Side.BUY else FALLING


def order_params(request: OrderRequest, *, trigger_direction: int | None = None) -> dict[str, Any]:
    """The ``/v5/order/create`` body for a request (numbers as plain strings, never floats).

    A ``trigger_price`` makes it a conditional order; ``trigger_direction`` (1 rising, 2 falling)
    should come from :func:`trigger_direction_for` with the last price, which
    :meth:`Trading.create_order` fetches; without it the side decides, as for a stop.
    """
    params: dict[str, Any] = {
        "category": CATEGORY,
        "symbol": request.symbol,
        "side": request.side.value,
        "orderType": request.order_type.value,
        "qty": decimal_text(request.qty),
        "orderLinkId": request.order_link_id,
        "positionIdx": 0,
    }
    if request.order_type is OrderType.LIMIT:
        assert request.price is not None  # OrderRequest refuses a limit without a price
        params["price"] = decimal_text(request.price)
        params["timeInForce"] = request.time_in_force.value
    if request.reduce_only:
        params["reduceOnly"] = True
    if request.trigger_price is not None:
        params["triggerPrice"] = decimal_text(request.trigger_price)
        if trigger_direction is None:
            trigger_direction = trigger_direction_for(request.trigger_price, None, request.side)
        if trigger_direction not in (RISING, FALLING):
            raise InvalidField("order.trigger_direction", trigger_direction, "must be 1 or 2")
        params["triggerDirection"] = trigger_direction
    if request.take_profit is not None:
        params["takeProfit"] = decimal_text(request.take_profit)
    if request.stop_loss is not None:
        params["stopLoss"] = decimal_text(request.stop_loss)
    if request.take_profit is not None or request.stop_loss is not None:
        params["tpslMode"] = "Full"
    return params


def _ack(info: w.OrderAckInfo) -> OrderAck:
    return OrderAck(order_id=info.orderId, order_link_id=info.orderLinkId)


class Trading:
    def __init__(
        self,
        rest: BybitRest,
        *,
        default_bot: str = UNKNOWN_BOT,
        market: MarketData | None = None,
    ) -> None:
        self._rest = rest
        self._default_bot = default_bot
        self._market = market or MarketData(rest)

    # --- orders ---------------------------------------------------------------------------------

    async def create_order(
        self, request: OrderRequest, *, trigger_direction: int | None = None
    ) -> OrderAck:
        """Place an order. For a conditional order without an explicit ``trigger_direction``
        the last price is fetched to tell whether the trigger is above or below the market."""
        if request.trigger_price is not None and trigger_direction is None:
            last = (await self._market.ticker(request.symbol)).last_price
            trigger_direction = trigger_direction_for(request.trigger_price, last, request.side)
        params = order_params(request, trigger_direction=trigger_direction)
        try:
            reply = await self._rest.get(
                "privatePostV5OrderCreate",
                params,
                endpoint="/v5/order/create",
                result_type=w.OrderAckInfo,
            )
        except DuplicateOrderLinkId as error:
            if error.attempts <= 1:
                raise
            existing = await self.open_orders(request.symbol, order_link_id=request.order_link_id)
            if not existing:
                raise
            return OrderAck(existing[0].order_id, existing[0].order_link_id)
        return _ack(reply.result)

    async def amend_order(
        self,
        symbol: str,
        *,
        order_id: str = "",
        order_link_id: str = "",
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> OrderAck:
        if not order_id and not order_link_id:
            raise InvalidField("amend.order_id", "", "order_id or order_link_id is required")
        params: dict[str, Any] = {"category": CATEGORY, "symbol": symbol}
        if order_id:
            params["orderId"] = order_id
        if order_link_id:
            params["orderLinkId"] = order_link_id
        for name, value in (
            ("qty", qty),
            ("price", price),
            ("triggerPrice", trigger_price),
            ("takeProfit", take_profit),
            ("stopLoss", stop_loss),
        ):
            if value is not None:
                params[name] = decimal_text(checks.non_negative(f"amend.{name}", value))
        reply = await self._rest.get(
            "privatePostV5OrderAmend",
            params,
            endpoint="/v5/order/amend",
            result_type=w.OrderAckInfo,
        )
        return _ack(reply.result)

    async def cancel_order(self, request: CancelRequest) -> OrderAck:
        params: dict[str, Any] = {"category": CATEGORY, "symbol": request.symbol}
        if request.order_id:
            params["orderId"] = request.order_id
        if request.order_link_id:
            params["orderLinkId"] = request.order_link_id
        reply = await self._rest.get(
            "privatePostV5OrderCancel",
            params,
            endpoint="/v5/order/cancel",
            result_type=w.OrderAckInfo,
        )
        return _ack(reply.result)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderAck]:
        params: dict[str, Any] = {"category": CATEGORY}
        if symbol:
            params["symbol"] = symbol
        else:
            params["settleCoin"] = SETTLE_COIN
        reply = await self._rest.get(
            "privatePostV5OrderCancelAll",
            params,
            endpoint="/v5/order/cancel-all",
            result_type=w.CancelAllResult,
        )
        return [_ack(i) for i in reply.result.list]

    async def open_orders(
        self, symbol: str | None = None, *, order_link_id: str = "", order_id: str = ""
    ) -> list[Order]:
        """``/v5/order/realtime``: open orders (and, by id, recently closed ones)."""
        params: dict[str, Any] = {"category": CATEGORY, "limit": ORDER_PAGE}
        params.update({"symbol": symbol} if symbol else {"settleCoin": SETTLE_COIN})
        if order_link_id:
            params["orderLinkId"] = order_link_id
        if order_id:
            params["orderId"] = order_id
        return await self._orders("privateGetV5OrderRealtime", "/v5/order/realtime", params)

    async def order_history(
        self, start: datetime, end: datetime, *, symbol: str | None = None
    ) -> list[Order]:
        """``/v5/order/history`` over any range, in 7-day windows, oldest first."""
        found: dict[str, Order] = {}
        for window_start, window_end in windows(start, end):
            params: dict[str, Any] = {
                "category": CATEGORY,
                "limit": ORDER_PAGE,
                "startTime": window_start,
                "endTime": window_end,
            }
            params.update({"symbol": symbol} if symbol else {"settleCoin": SETTLE_COIN})
            for order in await self._orders(
                "privateGetV5OrderHistory", "/v5/order/history", params
            ):
                found[order.order_id] = order
        return sorted(found.values(), key=lambda o: (o.created_at, o.order_id))

    async def _orders(self, method: str, endpoint: str, params: dict[str, Any]) -> list[Order]:
        orders: list[Order] = []
        async for page in self._rest.pages(
            method,
            params,
            endpoint=endpoint,
            result_type=w.OrdersResult,
            items=lambda r: r.list,
            cursor=lambda r: r.nextPageCursor,
        ):
            orders.extend(order_from_info(o, default_bot=self._default_bot) for o in page)
        return orders

    # --- positions ------------------------------------------------------------------------------

    async def positions(self, symbol: str | None = None) -> list[PositionReported]:
        params: dict[str, Any] = {"category": CATEGORY, "limit": POSITION_PAGE}
        params.update({"symbol": symbol} if symbol else {"settleCoin": SETTLE_COIN})
        found: list[PositionReported] = []
        async for page in self._rest.pages(
            "privateGetV5PositionList",
            params,
            endpoint="/v5/position/list",
            result_type=w.PositionsResult,
            items=lambda r: r.list,
            cursor=lambda r: r.nextPageCursor,
        ):
            now = utc_ms("position.time", self._rest.clock.now_ms())
            found.extend(position_reported(p, self._rest.config.account, at=now) for p in page)
        return found

    async def set_leverage(self, symbol: str, leverage: Decimal) -> bool:
        """Set both sides' leverage; False when it already was that (110043 is success)."""
        value = decimal_text(checks.positive("leverage", leverage))
        reply = await self._rest.call(
            "privatePostV5PositionSetLeverage",
            {"category": CATEGORY, "symbol": symbol, "buyLeverage": value, "sellLeverage": value},
            endpoint="/v5/position/set-leverage",
            result_type=dict,
            accept=NOT_MODIFIED_CODES,
        )
        return reply is not None

    async def set_trading_stop(self, request: TradingStopRequest) -> bool:
        """Position TP/SL/trailing stop; False when nothing changed (34040 is success)."""
        params: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": request.symbol,
            "positionIdx": 0,
            "tpslMode": "Full",
        }
        for name, value in (
            ("takeProfit", request.take_profit),
            ("stopLoss", request.stop_loss),
            ("trailingStop", request.trailing_stop),
            ("activePrice", request.active_price),
        ):
            if value is not None:
                params[name] = decimal_text(value)
        reply = await self._rest.call(
            "privatePostV5PositionTradingStop",
            params,
            endpoint="/v5/position/trading-stop",
            result_type=dict,
            accept=NOT_MODIFIED_CODES,
        )
        return reply is not None
