"""What the desk asks a venue to do: place an order, cancel it, set a position's protection.

These are the venue-neutral shapes the router hands to any execution venue (Bybit, paper,
backtest). Quantities and prices in a request are already rounded to the instrument's grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from alphadesk.domain import checks
from alphadesk.domain.enums import OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.native_init import init_signature, is_native, native_value
from alphadesk.domain.slots import slot_maker


@dataclass(frozen=True, slots=True)
class OrderRequest:
    bot_id: str
    symbol: str
    side: Side
    qty: Decimal
    order_link_id: str
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    trigger_price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    def __new__(cls, *_args: object, **_kwargs: object) -> OrderRequest:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        if (
            type(self.bot_id) is str
            and self.bot_id
            and type(self.symbol) is str
            and self.symbol
            and checks.plain_positive(self.qty)
            and type(self.order_link_id) is str
            and 0 < len(self.order_link_id) <= 36
            and (self.order_type is not OrderType.LIMIT or self.price is not None)
            and (self.price is None or checks.plain_positive(self.price))
            and type(self.reduce_only) is bool
            and (self.trigger_price is None or checks.plain_positive(self.trigger_price))
            and (self.take_profit is None or checks.plain_positive(self.take_profit))
            and (self.stop_loss is None or checks.plain_positive(self.stop_loss))
        ):
            return  # plainly valid (every request the router builds): the checks below pass
        check_order_fields(
            self.bot_id, self.symbol, self.side, self.qty, self.order_link_id, self.order_type,
            self.price, self.time_in_force, self.reduce_only, self.trigger_price,
            self.take_profit, self.stop_loss,
        )  # fmt: skip


def check_order_fields(
    bot_id: object,
    symbol: object,
    side: object,
    qty: object,
    order_link_id: object,
    order_type: object = OrderType.MARKET,
    price: object = None,
    time_in_force: object = TimeInForce.GTC,
    reduce_only: object = False,
    trigger_price: object = None,
    take_profit: object = None,
    stop_loss: object = None,
) -> None:
    """An order request's checks (raises InvalidField naming the first wrong field); a module
    function so the compiled build's constructor can run it on the values as given
    (:mod:`~alphadesk.domain.native_init`)."""
    checks.text("order.bot_id", bot_id)
    checks.text("order.symbol", symbol)
    checks.positive("order.qty", qty)
    checks.text("order.order_link_id", order_link_id, max_len=36)
    if order_type is OrderType.LIMIT and price is None:
        raise InvalidField("order.price", None, "a limit order needs a price")
    if type(reduce_only) is not bool:
        raise InvalidField("order.reduce_only", reduce_only, "must be bool")
    for name, value in (
        ("price", price), ("trigger_price", trigger_price), ("take_profit", take_profit),
        ("stop_loss", stop_loss),
    ):  # fmt: skip
        if value is not None:
            checks.positive(f"order.{name}", value)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    bot_id: str
    symbol: str
    order_id: str = ""
    order_link_id: str = ""

    def __post_init__(self) -> None:
        _check_cancel(self.bot_id, self.symbol, self.order_id, self.order_link_id)


def _check_cancel(bot_id: object, symbol: object, order_id: object = "",
                  order_link_id: object = "") -> None:  # fmt: skip
    checks.text("cancel.bot_id", bot_id, allow_empty=True)  # str, as the field says
    checks.text("cancel.symbol", symbol, allow_empty=True)
    checks.text("cancel.order_id", order_id, allow_empty=True)
    checks.text("cancel.order_link_id", order_link_id, allow_empty=True)
    if not order_id and not order_link_id:
        raise InvalidField("cancel.order_id", "", "order_id or order_link_id is required")


@dataclass(frozen=True, slots=True)
class TradingStopRequest:
    """Protection set on the position itself (Bybit ``/v5/position/trading-stop``).

    ``trailing_stop`` is a price distance; ``active_price`` arms it. Zero clears a field, None
    leaves it as it is, as on Bybit.
    """

    bot_id: str
    symbol: str
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    active_price: Decimal | None = None

    def __new__(cls, *_args: object, **_kwargs: object) -> TradingStopRequest:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        _check_trading_stop(
            self.bot_id, self.symbol, self.take_profit, self.stop_loss, self.trailing_stop,
            self.active_price,
        )  # fmt: skip


def _check_trading_stop(
    bot_id: object,
    symbol: object,
    take_profit: object = None,
    stop_loss: object = None,
    trailing_stop: object = None,
    active_price: object = None,
) -> None:
    checks.text("trading_stop.bot_id", bot_id, allow_empty=True)  # str, as the field says
    checks.text("trading_stop.symbol", symbol, allow_empty=True)
    for name, value in (
        ("take_profit", take_profit), ("stop_loss", stop_loss),
        ("trailing_stop", trailing_stop), ("active_price", active_price),
    ):  # fmt: skip
        if value is not None:
            checks.non_negative(f"trading_stop.{name}", value)


_NATIVE: Final = is_native(OrderRequest)
_slot_order: Final = None if _NATIVE else slot_maker(OrderRequest)
_slot_stop: Final = None if _NATIVE else slot_maker(TradingStopRequest)
if _NATIVE:
    native_value(OrderRequest, "order", check_order_fields)
    native_value(CancelRequest, "cancel", _check_cancel)
    native_value(TradingStopRequest, "trading_stop", _check_trading_stop)
else:
    init_signature(OrderRequest, TradingStopRequest)


def make_order_request(
    bot_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    order_link_id: str,
    order_type: OrderType,
    price: Decimal | None,
    time_in_force: TimeInForce,
    reduce_only: bool,
    trigger_price: Decimal | None,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
) -> OrderRequest:
    """``OrderRequest(...)`` with every field given, in field order, for values the caller
    checked already (the router's, once per order): the fields are stored directly, native
    stores compiled, slot writes interpreted."""
    if _slot_order is not None:
        made: OrderRequest = _slot_order(
            bot_id, symbol, side, qty, order_link_id, order_type, price, time_in_force,
            reduce_only, trigger_price, take_profit, stop_loss,
        )  # fmt: skip
        return made
    made = OrderRequest.__new__(OrderRequest)
    made.bot_id = bot_id  # type: ignore[misc]  # frozen for everyone else: this is its maker
    made.symbol = symbol  # type: ignore[misc]
    made.side = side  # type: ignore[misc]
    made.qty = qty  # type: ignore[misc]
    made.order_link_id = order_link_id  # type: ignore[misc]
    made.order_type = order_type  # type: ignore[misc]
    made.price = price  # type: ignore[misc]
    made.time_in_force = time_in_force  # type: ignore[misc]
    made.reduce_only = reduce_only  # type: ignore[misc]
    made.trigger_price = trigger_price  # type: ignore[misc]
    made.take_profit = take_profit  # type: ignore[misc]
    made.stop_loss = stop_loss  # type: ignore[misc]
    return made


def make_trading_stop_request(
    bot_id: str,
    symbol: str,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
    trailing_stop: Decimal | None,
    active_price: Decimal | None,
) -> TradingStopRequest:
    """``TradingStopRequest(...)`` likewise, for prices its checks plainly accept."""
    if _slot_stop is not None:
        made: TradingStopRequest = _slot_stop(
            bot_id, symbol, take_profit, stop_loss, trailing_stop, active_price
        )
        return made
    made = TradingStopRequest.__new__(TradingStopRequest)
    made.bot_id = bot_id  # type: ignore[misc]
    made.symbol = symbol  # type: ignore[misc]
    made.take_profit = take_profit  # type: ignore[misc]
    made.stop_loss = stop_loss  # type: ignore[misc]
    made.trailing_stop = trailing_stop  # type: ignore[misc]
    made.active_price = active_price  # type: ignore[misc]
    return made
