"""Requests the simulated venue accepts beyond the domain's venue-neutral ones.

The Bybit simulator receives fields :class:`~alphadesk.domain.requests.OrderRequest` does not carry
(``triggerDirection``, ``positionIdx``, an empty ``orderLinkId``, no bot), and needs an amend. These
live here rather than in the domain because only a simulated venue interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any

from alphadesk.adapters.sim.plain_request import MAX_BOT_ID, MAX_SYMBOL, plain_fields
from alphadesk.domain import checks
from alphadesk.domain.enums import OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT
from alphadesk.domain.requests import OrderRequest
from alphadesk.domain.slots import slot_builder


class TriggerDirection(IntEnum):
    """Bybit ``triggerDirection``: NONE lets the engine infer it from the last price."""

    NONE = 0
    RISING = 1
    FALLING = 2


@dataclass(frozen=True, slots=True)
class SimOrderRequest:
    """An order as the engine takes it. ``order_link_id`` may be empty (Bybit makes none then).

    A ``trigger_price`` makes it conditional (stop-market, or stop-limit with ``price``);
    ``take_profit``/``stop_loss`` are set on the whole position when the order fills (Bybit's
    ``tpslMode=Full``). ``position_idx`` must be 0: the desk trades one-way mode only.
    """

    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    order_link_id: str = ""
    bot_id: str = UNKNOWN_BOT
    trigger_price: Decimal | None = None
    trigger_direction: TriggerDirection = TriggerDirection.NONE
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    position_idx: int = 0
    close_on_trigger: bool = False

    def __post_init__(self) -> None:
        checks.text("order.symbol", self.symbol, max_len=MAX_SYMBOL)
        if not isinstance(self.side, Side):
            object.__setattr__(self, "side", Side.parse(self.side, "order.side"))
        checks.positive("order.qty", self.qty)
        checks.text("order.order_link_id", self.order_link_id, max_len=36, allow_empty=True)
        checks.text("order.bot_id", self.bot_id, max_len=MAX_BOT_ID)
        if not isinstance(self.order_type, OrderType):
            raise InvalidField("order.order_type", self.order_type, "must be Market or Limit")
        if not isinstance(self.time_in_force, TimeInForce):
            raise InvalidField("order.time_in_force", self.time_in_force, "must be a TimeInForce")
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise InvalidField("order.price", None, "a limit order needs a price")
        for name in ("price", "trigger_price", "take_profit", "stop_loss"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(f"order.{name}", value)
        if not isinstance(self.trigger_direction, TriggerDirection):
            object.__setattr__(self, "trigger_direction", _direction(self.trigger_direction))
        if self.position_idx != 0:
            raise InvalidField("order.position_idx", self.position_idx, "only one-way mode (0)")

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None

    @staticmethod
    def takes_as_is(request: OrderRequest) -> bool:
        """Whether the engine may place ``request`` without a copy: an ``OrderRequest`` has
        checked its texts, quantity and prices already; the limits it does not share with this
        class (symbol and bot lengths, enum types) are what is left to look at."""
        untyped: Any = request  # the enum and bool fields, which OrderRequest does not check
        return plain_fields(
            request.symbol, request.bot_id, untyped.side, untyped.order_type,
            untyped.time_in_force, untyped.reduce_only,
        )  # fmt: skip

    @classmethod
    def from_request(cls, request: OrderRequest) -> SimOrderRequest:
        """The domain request, as the engine takes it. An ``OrderRequest`` has checked its texts,
        quantity and prices already; only the limits it does not share with this class (symbol
        and bot lengths, enum types) are looked at before copying, and anything doubtful goes
        through the checking constructor."""
        if cls.takes_as_is(request):
            return _assemble(
                (
                    request.symbol, request.side, request.qty, request.order_type, request.price,
                    request.time_in_force, request.reduce_only, request.order_link_id,
                    request.bot_id, request.trigger_price, TriggerDirection.NONE,
                    request.take_profit, request.stop_loss, 0, False,
                )
            )  # fmt: skip
        return cls(
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            price=request.price,
            time_in_force=request.time_in_force,
            reduce_only=request.reduce_only,
            order_link_id=request.order_link_id,
            bot_id=request.bot_id,
            trigger_price=request.trigger_price,
            take_profit=request.take_profit,
            stop_loss=request.stop_loss,
        )


_assemble = slot_builder(SimOrderRequest)


def _direction(value: object) -> TriggerDirection:
    try:
        return TriggerDirection(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise InvalidField("order.trigger_direction", value, "must be 0, 1 or 2") from None


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """Bybit ``/v5/order/amend``: change qty, price or trigger of an open order; None keeps it."""

    symbol: str
    order_id: str = ""
    order_link_id: str = ""
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    def __post_init__(self) -> None:
        checks.text("amend.symbol", self.symbol, max_len=20)
        if not self.order_id and not self.order_link_id:
            raise InvalidField("amend.order_id", "", "order_id or order_link_id is required")
        for name in ("qty", "price", "trigger_price"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(f"amend.{name}", value)
        for name in ("take_profit", "stop_loss"):
            value = getattr(self, name)
            if value is not None:
                checks.non_negative(f"amend.{name}", value)
