"""Pure functions from account wire structs (executions, orders, positions, wallet) to the domain.

They are the only place a Bybit execution becomes a :class:`Fill`, so the rules live here: the bot
comes from the ``orderLinkId`` (an id the desk did not make is ``unknown``/``manual`` unless the
caller knows whose key this is), every number is the exchange's own string read as Decimal, and
every time is epoch ms turned into UTC. Nothing here does I/O.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar, cast

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import ClosedPnl
from alphadesk.adapters.bybit.wire import (
    MalformedPayload,
    dec,
    dec_or_zero,
    opt_dec,
    positive_or_none,
    utc_ms,
)
from alphadesk.domain import order_link
from alphadesk.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.domain.orders import Order

VENUE = "bybit"
_NO_REJECT = frozenset({"", "EC_NoError", "UNKNOWN"})

#: Bybit's linear USDT contracts, in the one form its instrument list uses for them
#: (``tests/fixtures/bybit_payloads/http_get_instruments_linear*.json``: ``BTCUSDT``,
#: ``TSLAUSDT``; ``1000PEPEUSDT`` in the ledger tests): upper-case letters and digits ending in
#: ``USDT``, at most 20 characters (the ledger's column). Nothing else in those lists is a linear
#: USDT contract, so anything else (a ``:``, a space, lower case, a dated ``-26DEC25`` suffix) is
#: refused where the row is decoded, before it can reach a key or a table.
_LINEAR_USDT = re.compile(r"[A-Z0-9]{1,16}USDT")
#: How far past the venue clock an execution time may lie (clock skew; never a day).
FUTURE_SLACK = timedelta(days=1)


def linear_symbol(field: str, value: str) -> str:
    if type(value) is str and _LINEAR_USDT.fullmatch(value):
        return value
    raise MalformedPayload(
        field, value, "must be a linear USDT contract (A-Z and 0-9, ending in USDT)"
    )


def _side(field: str, value: str) -> Side:
    try:
        return Side.parse(value, field)
    except InvalidField as exc:
        raise MalformedPayload(field, value, exc.reason) from None


def _bot(link_id: str, default_bot: str) -> tuple[str, str]:
    link = order_link.decode(link_id)
    bot = link.bot_id if link.is_ours else default_bot
    return bot, link.reason


#: Exchange-side exits carry no ``orderLinkId`` (Bybit makes the order when a position's
#: take-profit, stop-loss or trailing stop triggers); ``stopOrderType`` or ``createType`` says
#: which. Their reason is the purpose the desk would have given them, not ``manual``.
_VENUE_EXITS: dict[str, str] = {
    "TakeProfit": order_link.Purpose.TAKE_PROFIT.value,
    "PartialTakeProfit": order_link.Purpose.TAKE_PROFIT.value,
    "CreateByTakeProfit": order_link.Purpose.TAKE_PROFIT.value,
    "CreateByPartialTakeProfit": order_link.Purpose.TAKE_PROFIT.value,
    "StopLoss": order_link.Purpose.STOP_LOSS.value,
    "PartialStopLoss": order_link.Purpose.STOP_LOSS.value,
    "CreateByStopLoss": order_link.Purpose.STOP_LOSS.value,
    "CreateByPartialStopLoss": order_link.Purpose.STOP_LOSS.value,
    "TrailingStop": order_link.Purpose.TRAILING.value,
    "CreateByTrailingStop": order_link.Purpose.TRAILING.value,
}


def _fill_bot(e: w.ExecutionInfo, default_bot: str) -> tuple[str, str]:
    """Attribution of one execution: the account decides the bot. An id the desk made names
    its bot and purpose (it splits an account several bots share); anything else belongs to the
    account's bot (``default_bot``; ``unknown`` when bots share the key), so an exchange-side
    TP/SL/trailing exit or a person's manual order still closes that bot's position and round
    trip. Its reason is the venue exit's kind, or ``manual`` for an order someone placed."""
    link = order_link.decode(e.orderLinkId)
    if link.is_ours:
        return link.bot_id, link.reason
    exit_kind = _VENUE_EXITS.get(e.stopOrderType) or _VENUE_EXITS.get(e.createType)
    return default_bot, exit_kind or link.reason


def _seq(value: int | str | None) -> int | None:
    """Bybit's ``seq``: None when absent or blank; digits given as text are read as the number."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise MalformedPayload("execution.seq", value, "must be a non-negative integer")
        return int(value)
    return value


def fill_from_execution(
    e: w.ExecutionInfo,
    account: str,
    *,
    default_bot: str = UNKNOWN_BOT,
    now: datetime | None = None,
) -> Fill:
    """One execution (REST history or the ``execution`` topic: the same shape) as a Fill.

    ``now`` (the venue's clock, when the caller has one): an execution more than a day past it
    is refused. The Fill itself refuses numbers and times outside what Bybit can send."""
    try:
        exec_type = ExecType.parse(e.execType, "execution.execType")
    except InvalidField as exc:
        raise MalformedPayload("execution.execType", e.execType, exc.reason) from None
    bot, reason = _fill_bot(e, default_bot)
    exec_time = utc_ms("execution.execTime", e.execTime)
    if now is not None and exec_time > now + FUTURE_SLACK:
        raise MalformedPayload(
            "execution.execTime", e.execTime, "is more than a day after the venue's clock"
        )
    return Fill(
        venue=VENUE,
        account=account,
        exec_id=e.execId,
        bot_id=bot,
        symbol=linear_symbol("execution.symbol", e.symbol),
        side=_side("execution.side", e.side),
        price=dec("execution.execPrice", e.execPrice),
        qty=dec("execution.execQty", e.execQty),
        fee=dec_or_zero("execution.execFee", e.execFee),
        exec_time=exec_time,
        exec_type=exec_type,
        fee_currency=e.feeCurrency,
        is_maker=e.isMaker,
        order_id=e.orderId,
        order_link_id=e.orderLinkId,
        order_type=e.orderType,
        closed_size=dec_or_zero("execution.closedSize", e.closedSize),
        close_reason=reason,
        seq=_seq(e.seq),
    )


E = TypeVar("E", OrderStatus, OrderType, TimeInForce)


def _enum_value(enum: type[E], field: str, value: str) -> E:
    member = enum._value2member_map_.get(value)  # a dict look-up: this runs per pushed row
    if member is not None:
        return cast(E, member)
    allowed = ", ".join(m.value for m in enum)
    raise MalformedPayload(field, value, f"must be one of {allowed}")


def order_from_info(o: w.OrderInfo, *, default_bot: str = UNKNOWN_BOT) -> Order:
    """An order row or ``order`` push. Bybit's "not set" prices ("", "0") become None."""
    bot, _ = _bot(o.orderLinkId, default_bot)
    reject = o.rejectReason or ""
    return Order(
        order_id=o.orderId,
        order_link_id=o.orderLinkId,
        bot_id=bot,
        symbol=linear_symbol("order.symbol", o.symbol),
        side=_side("order.side", o.side),
        order_type=_enum_value(OrderType, "order.orderType", o.orderType),
        qty=dec("order.qty", o.qty),
        status=_enum_value(OrderStatus, "order.orderStatus", o.orderStatus),
        created_at=utc_ms("order.createdTime", o.createdTime),
        updated_at=utc_ms("order.updatedTime", o.updatedTime),
        price=positive_or_none("order.price", o.price),
        trigger_price=positive_or_none("order.triggerPrice", o.triggerPrice),
        time_in_force=_enum_value(TimeInForce, "order.timeInForce", o.timeInForce),
        reduce_only=o.reduceOnly,
        filled_qty=dec_or_zero("order.cumExecQty", o.cumExecQty),
        avg_fill_price=positive_or_none("order.avgPrice", o.avgPrice),
        reject_reason="" if reject in _NO_REJECT else reject,
    )


def order_updated(o: w.OrderInfo, account: str, *, default_bot: str = UNKNOWN_BOT) -> OrderUpdated:
    return OrderUpdated(VENUE, account, order_from_info(o, default_bot=default_bot))


def position_reported(p: w.PositionInfo, account: str, *, at: datetime) -> PositionReported:
    """A position row or push. A flat position has side "" and size 0: reported with side None.

    ``realized_pnl`` is Bybit's ``curRealisedPnl`` (this position since it was opened, fees
    included); ``at`` is used when Bybit leaves ``updatedTime`` blank.
    """
    side = _side("position.side", p.side) if p.side not in ("", "None") else None
    size = dec("position.size", p.size)
    avg = opt_dec("position.avgPrice", p.avgPrice)
    if avg is None:
        avg = dec_or_zero("position.entryPrice", p.entryPrice)
    return PositionReported(
        venue=VENUE,
        account=account,
        symbol=linear_symbol("position.symbol", p.symbol),
        side=side if size > 0 else None,
        size=size,
        avg_price=avg,
        mark_price=dec_or_zero("position.markPrice", p.markPrice),
        unrealized_pnl=dec_or_zero("position.unrealisedPnl", p.unrealisedPnl),
        realized_pnl=dec_or_zero("position.curRealisedPnl", p.curRealisedPnl),
        updated_at=utc_ms("position.updatedTime", p.updatedTime) if p.updatedTime else at,
        take_profit=dec_or_zero("position.takeProfit", p.takeProfit),
        stop_loss=dec_or_zero("position.stopLoss", p.stopLoss),
        trailing_stop=dec_or_zero("position.trailingStop", p.trailingStop),
    )


def wallet_reported(info: w.WalletInfo, account: str, *, at: datetime) -> WalletReported:
    """The unified account's totals (USD-valued by Bybit); ``at`` is the response/push time."""
    upl = info.totalPerpUPL or info.totalPerpUpl
    return WalletReported(
        venue=VENUE,
        account=account,
        equity=dec("wallet.totalEquity", info.totalEquity),
        wallet_balance=dec("wallet.totalWalletBalance", info.totalWalletBalance),
        available_balance=dec_or_zero("wallet.totalAvailableBalance", info.totalAvailableBalance),
        unrealized_pnl=dec_or_zero("wallet.totalPerpUPL", upl),
        at=at,
    )


def closed_pnl_from_info(c: w.ClosedPnlInfo) -> ClosedPnl:
    fill_count = c.fillCount or "0"
    if not fill_count.isdigit():
        raise MalformedPayload("closedPnl.fillCount", c.fillCount, "must be an integer")
    return ClosedPnl(
        symbol=c.symbol,
        order_id=c.orderId,
        side=_side("closedPnl.side", c.side),
        qty=dec("closedPnl.qty", c.qty),
        closed_size=dec_or_zero("closedPnl.closedSize", c.closedSize),
        avg_entry_price=dec_or_zero("closedPnl.avgEntryPrice", c.avgEntryPrice),
        avg_exit_price=dec_or_zero("closedPnl.avgExitPrice", c.avgExitPrice),
        closed_pnl=dec("closedPnl.closedPnl", c.closedPnl),
        created_at=utc_ms("closedPnl.createdTime", c.createdTime),
        updated_at=utc_ms("closedPnl.updatedTime", c.updatedTime),
        order_type=c.orderType,
        exec_type=c.execType,
        leverage=opt_dec("closedPnl.leverage", c.leverage),
        fill_count=int(fill_count),
        open_fee=opt_dec("closedPnl.openFee", c.openFee),
        close_fee=opt_dec("closedPnl.closeFee", c.closeFee),
    )


def decimal_text(value: Decimal) -> str:
    """How we write a number to Bybit: plain notation, no exponent, no float on the way."""
    return format(value, "f")
