"""Orders and the statuses they may move through.

The table of legal transitions is Bybit's order life cycle. Applying updates through it means a
late or replayed WebSocket message (a ``New`` after ``Filled``) is recognised as stale instead of
resurrecting a finished order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField, InvalidTransition
from alphadesk.domain.slots import slot_builder

S = OrderStatus
ZERO = Decimal(0)

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

    @classmethod
    def trusted(
        cls,
        *,
        order_id: str,
        order_link_id: str,
        bot_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        status: OrderStatus,
        created_at: datetime,
        updated_at: datetime,
        price: Decimal | None,
        trigger_price: Decimal | None,
        time_in_force: TimeInForce,
        reduce_only: bool,
        filled_qty: Decimal,
        avg_fill_price: Decimal | None,
        reject_reason: str,
    ) -> Order:
        """The same order, for a producer that holds only checked values (a simulated venue's
        snapshot of its own state): the texts and times are not re-checked, the quantities are.
        Anything doubtful goes through the checking constructor, which raises as usual."""
        if not (
            type(symbol) is str
            and symbol
            and type(bot_id) is str
            and bot_id
            and type(qty) is Decimal
            and type(filled_qty) is Decimal
            and qty.is_finite()
            and filled_qty.is_finite()
            and ZERO <= filled_qty <= qty
            and qty > ZERO
            and (price is None or (type(price) is Decimal and price.is_finite() and price >= ZERO))
            and type(created_at) is datetime
            and type(updated_at) is datetime
            and created_at.tzinfo is UTC
            and updated_at.tzinfo is UTC
        ):
            return cls(
                order_id, order_link_id, bot_id, symbol, side, order_type, qty, status,
                created_at, updated_at, price, trigger_price, time_in_force, reduce_only,
                filled_qty, avg_fill_price, reject_reason,
            )  # fmt: skip
        return _assemble(
            (
                order_id, order_link_id, bot_id, symbol, side, order_type, qty, status,
                created_at, updated_at, price, trigger_price, time_in_force, reduce_only,
                filled_qty, avg_fill_price, reject_reason,
            )
        )  # fmt: skip

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


_assemble = slot_builder(Order)
