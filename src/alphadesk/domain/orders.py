"""Orders and the statuses they may move through.

The table of legal transitions is Bybit's order life cycle. Applying updates through it means a
late or replayed WebSocket message (a ``New`` after ``Filled``) is recognised as stale instead of
resurrecting a finished order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField, InvalidTransition

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.REJECTED, S.CANCELLED}),
    S.UNTRIGGERED: frozenset(
        {S.TRIGGERED, S.DEACTIVATED, S.CANCELLED, S.NEW, S.FILLED, S.PARTIALLY_FILLED, S.REJECTED}
    ),
    S.TRIGGERED: frozenset(
        {S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED, S.DEACTIVATED}
    ),
    S.NEW: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED, S.DEACTIVATED}),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PARTIALLY_FILLED_CANCELED, S.CANCELLED}
    ),
}


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    if current == new and current is not S.PARTIALLY_FILLED:
        return True
    return new in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the desk knows it; ``filled_qty`` only grows."""

    order_id: str
    order_link_id: str
    bot_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    reject_reason: str = ""

    def __post_init__(self) -> None:
        checks.text("order.symbol", self.symbol)
        checks.text("order.bot_id", self.bot_id)
        checks.positive("order.qty", self.qty)
        checks.non_negative("order.filled_qty", self.filled_qty)
        if self.filled_qty > self.qty:
            raise InvalidField("order.filled_qty", self.filled_qty, f"exceeds qty {self.qty}")
        if self.price is not None:
            checks.non_negative("order.price", self.price)
        checks.utc("order.created_at", self.created_at)
        checks.utc("order.updated_at", self.updated_at)

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    def transition(
        self,
        status: OrderStatus,
        at: datetime,
        *,
        filled_qty: Decimal | None = None,
        avg_fill_price: Decimal | None = None,
        reject_reason: str = "",
    ) -> Order:
        """The order after an update; raises :class:`InvalidTransition` for an illegal move."""
        if not can_transition(self.status, status):
            raise InvalidTransition(
                f"order {self.order_id}: {self.status} -> {status} is not allowed"
            )
        checks.utc("order.updated_at", at)
        filled = self.filled_qty if filled_qty is None else filled_qty
        if filled < self.filled_qty:
            raise InvalidField("order.filled_qty", filled, f"would shrink from {self.filled_qty}")
        return replace(
            self,
            status=status,
            updated_at=at,
            filled_qty=filled,
            avg_fill_price=avg_fill_price if avg_fill_price is not None else self.avg_fill_price,
            reject_reason=reject_reason or self.reject_reason,
        )
