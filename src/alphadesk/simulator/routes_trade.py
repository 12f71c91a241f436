"""Private trading endpoints: orders, positions, executions and closed PnL, on the engine."""

from __future__ import annotations

from typing import Any

from alphadesk.adapters.sim.records import OrderView
from alphadesk.adapters.sim.requests import AmendRequest, SimOrderRequest, TriggerDirection
from alphadesk.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.requests import CancelRequest, TradingStopRequest
from alphadesk.simulator import account_payloads as ap
from alphadesk.simulator.auth import require_trade
from alphadesk.simulator.errors import ApiError, RetCode
from alphadesk.simulator.http_common import Call, Handler

WEEK_MS = 7 * 86_400_000
SPAN_ERROR = "params error: The time range between startTime and endTime cannot exceed 7 days"


def _enum(call: Call, name: str, kind: type[Any], default: str | None = None) -> Any:
    value = call.text(name, default)
    for member in kind:
        if member.value == value:
            return member
    raise ApiError(RetCode.PARAMS_ERROR, f"params error: {name} invalid: {value}")


async def create_order(call: Call) -> dict[str, str]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol()
    assert symbol is not None
    qty = call.decimal("qty")
    if qty is None:
        raise ApiError(RetCode.PARAMS_ERROR, "params error: qty is required")
    order_type = _enum(call, "orderType", OrderType)
    request = SimOrderRequest(
        symbol=symbol,
        side=_enum(call, "side", Side),
        qty=qty,
        order_type=order_type,
        price=call.decimal("price") if order_type is OrderType.LIMIT else None,
        time_in_force=_enum(call, "timeInForce", TimeInForce,
                            "IOC" if order_type is OrderType.MARKET else "GTC"),
        reduce_only=call.boolean("reduceOnly"),
        order_link_id=call.opt("orderLinkId") or "",
        trigger_price=call.decimal("triggerPrice"),
        trigger_direction=TriggerDirection(call.integer("triggerDirection", 0) or 0),
        take_profit=call.decimal("takeProfit"),
        stop_loss=call.decimal("stopLoss"),
        position_idx=call.integer("positionIdx", 0) or 0,
        close_on_trigger=call.boolean("closeOnTrigger"),
    )
    outcome = ex.engine.place(account.name, request, ex.now_ms)
    ex.publish_events(outcome.events)
    assert outcome.order is not None
    return {"orderId": outcome.order.order_id, "orderLinkId": outcome.order.order_link_id}


async def amend_order(call: Call) -> dict[str, str]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol()
    assert symbol is not None
    request = AmendRequest(
        symbol=symbol,
        order_id=call.opt("orderId") or "",
        order_link_id=call.opt("orderLinkId") or "",
        qty=call.decimal("qty"),
        price=call.decimal("price"),
        trigger_price=call.decimal("triggerPrice"),
        take_profit=call.decimal("takeProfit"),
        stop_loss=call.decimal("stopLoss"),
    )
    outcome = ex.engine.amend(account.name, request, ex.now_ms)
    ex.publish_events(outcome.events)
    assert outcome.order is not None
    return {"orderId": outcome.order.order_id, "orderLinkId": outcome.order.order_link_id}


async def cancel_order(call: Call) -> dict[str, str]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol()
    assert symbol is not None
    request = CancelRequest(account.name, symbol, call.opt("orderId") or "",
                            call.opt("orderLinkId") or "")
    outcome = ex.engine.cancel(account.name, request, ex.now_ms)
    ex.publish_events(outcome.events)
    assert outcome.order is not None
    return {"orderId": outcome.order.order_id, "orderLinkId": outcome.order.order_link_id}


async def cancel_all(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    outcome = ex.engine.cancel_all(account.name, ex.now_ms, call.symbol(required=False))
    ex.publish_events(outcome.events)
    cancelled = [
        {"orderId": e.order.order_id, "orderLinkId": e.order.order_link_id}
        for e in outcome.events
        if isinstance(e, OrderUpdated) and e.order.status is OrderStatus.CANCELLED
    ]
    return {"list": cancelled, "success": "1"}


def _page_of(views: list[OrderView], call: Call) -> dict[str, Any]:
    order_id, link_id = call.opt("orderId"), call.opt("orderLinkId")
    status = call.opt("orderStatus")
    rows = [
        v for v in views
        if (order_id is None or v.order.order_id == order_id)
        and (link_id is None or v.order.order_link_id == link_id)
        and (status is None or v.order.status.value == status)
    ]
    limit = call.limit(20, 50)
    offset = int(call.opt("cursor") or "0") if (call.opt("cursor") or "0").isdigit() else 0
    chunk = rows[offset: offset + limit]
    more = offset + limit < len(rows)
    return {
        "category": "linear",
        "list": [ap.order_payload(v) for v in chunk],
        "nextPageCursor": str(offset + limit) if more else "",
    }


async def open_orders(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol(required=False)
    if call.opt("orderId") or call.opt("orderLinkId"):
        views = ex.engine.order_history(account.name, symbol)
    else:
        views = ex.engine.open_orders(account.name, symbol)
    return _page_of(views, call)


async def order_history(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    return _page_of(ex.engine.order_history(account.name, call.symbol(required=False)), call)


async def position_list(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol(required=False)
    if symbol is None and call.opt("settleCoin") is None:
        raise ApiError(RetCode.PARAMS_ERROR, "params error: symbol or settleCoin is required")
    if symbol is not None:
        positions = [ex.engine.position(account.name, symbol)]
    else:
        positions = ex.engine.positions(account.name)
    rows = [
        ap.position_payload(p, ex.engine.leverage(account.name, p.symbol), ex.now_ms)
        for p in positions
    ]
    return {"category": "linear", "list": rows, "nextPageCursor": ""}


async def set_leverage(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol()
    assert symbol is not None
    buy, sell = call.decimal("buyLeverage"), call.decimal("sellLeverage")
    if buy is None or sell is None or buy != sell:
        raise ApiError(RetCode.PARAMS_ERROR,
                       "params error: buyLeverage must equal sellLeverage in one-way mode")
    ex.engine.set_leverage(account.name, symbol, buy)
    return {}


async def trading_stop(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    symbol = call.symbol()
    assert symbol is not None
    request = TradingStopRequest(
        account.name, symbol, call.decimal("takeProfit"), call.decimal("stopLoss"),
        call.decimal("trailingStop"), call.decimal("activePrice"),
    )
    outcome = ex.engine.set_trading_stop(account.name, request, ex.now_ms)
    ex.publish_events(outcome.events)
    return {}


def _window(call: Call) -> tuple[int, int]:
    """Bybit's rule: a span over 7 days is refused; one bound alone means 7 days from it."""
    now = call.exchange.now_ms
    start, end = call.integer("startTime"), call.integer("endTime")
    if start is not None and end is not None:
        if end < start:
            raise ApiError(RetCode.PARAMS_ERROR, "params error: endTime is before startTime")
        if end - start > WEEK_MS:
            raise ApiError(RetCode.PARAMS_ERROR, SPAN_ERROR)
        return start, end
    if start is not None:
        return start, start + WEEK_MS
    if end is not None:
        return end - WEEK_MS, end
    return now - WEEK_MS, now


async def execution_list(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    start, end = _window(call)
    exec_type = call.opt("execType")
    page = ex.engine.executions(
        account.name,
        symbol=call.symbol(required=False),
        exec_type=ExecType.parse(exec_type, "execType") if exec_type else None,
        start_ms=start,
        end_ms=end,
        limit=call.limit(50, 100),
        cursor=call.opt("cursor") or "",
    )
    order_id = call.opt("orderId")
    rows = [ap.execution_payload(e) for e in page.items
            if order_id is None or e.fill.order_id == order_id]
    return {"category": "linear", "list": rows, "nextPageCursor": page.next_cursor}


async def closed_pnl(call: Call) -> dict[str, Any]:
    call.linear()
    ex, account = call.exchange, call.who
    start, end = _window(call)
    page = ex.engine.closed_pnl(
        account.name, symbol=call.symbol(required=False), start_ms=start, end_ms=end,
        limit=call.limit(50, 100), cursor=call.opt("cursor") or "",
    )
    return {"category": "linear", "list": [ap.closed_pnl_payload(c) for c in page.items],
            "nextPageCursor": page.next_cursor}


GET: dict[str, Handler] = {
    "/v5/order/realtime": open_orders,
    "/v5/order/history": order_history,
    "/v5/position/list": position_list,
    "/v5/position/closed-pnl": closed_pnl,
    "/v5/execution/list": execution_list,
}
def _trading(handler: Handler) -> Handler:
    """``handler`` behind Bybit's permission check: a read-only key gets 10005, changes nothing."""

    async def checked(call: Call) -> Any:
        require_trade(call.who)
        return await handler(call)

    return checked


POST: dict[str, Handler] = {
    path: _trading(handler)
    for path, handler in {
        "/v5/order/create": create_order,
        "/v5/order/amend": amend_order,
        "/v5/order/cancel": cancel_order,
        "/v5/order/cancel-all": cancel_all,
        "/v5/position/set-leverage": set_leverage,
        "/v5/position/trading-stop": trading_stop,
    }.items()
}
