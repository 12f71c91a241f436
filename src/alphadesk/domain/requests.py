"""What the desk asks a venue to do: place an order, cancel it, set a position's protection.

These are the venue-neutral shapes the router hands to any execution venue (Bybit, paper,
backtest). Quantities and prices in a request are already rounded to the instrument's grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField


def _positive(value: object) -> bool:
    """What ``checks.positive`` accepts, as a yes/no for the fast path (no error built)."""
    return type(value) is Decimal and value.is_finite() and value > 0


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

    def __post_init__(self) -> None:
        if (
            type(self.bot_id) is str
            and self.bot_id
            and type(self.symbol) is str
            and self.symbol
            and _positive(self.qty)
            and type(self.order_link_id) is str
            and 0 < len(self.order_link_id) <= 36
            and (self.order_type is not OrderType.LIMIT or self.price is not None)
            and (self.price is None or _positive(self.price))
            and (self.trigger_price is None or _positive(self.trigger_price))
            and (self.take_profit is None or _positive(self.take_profit))
            and (self.stop_loss is None or _positive(self.stop_loss))
        ):
            return  # plainly valid (every request the router builds): the checks below pass
        checks.text("order.bot_id", self.bot_id)
        checks.text("order.symbol", self.symbol)
        checks.positive("order.qty", self.qty)
        checks.text("order.order_link_id", self.order_link_id, max_len=36)
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise InvalidField("order.price", None, "a limit order needs a price")
        for name in ("price", "trigger_price", "take_profit", "stop_loss"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(f"order.{name}", value)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    bot_id: str
    symbol: str
    order_id: str = ""
    order_link_id: str = ""

    def __post_init__(self) -> None:
        if not self.order_id and not self.order_link_id:
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

    def __post_init__(self) -> None:
        for name in ("take_profit", "stop_loss", "trailing_stop", "active_price"):
            value = getattr(self, name)
            if value is not None:
                checks.non_negative(f"trading_stop.{name}", value)
