from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from alphadesk.domain.enums import OrderStatus, OrderType, Side
from alphadesk.domain.errors import InvalidField, InvalidTransition
from alphadesk.domain.orders import Order, can_transition
from alphadesk.testing.builders import T0

S = OrderStatus


def _order(status: OrderStatus = S.NEW) -> Order:
    return Order(
        order_id="o1",
        order_link_id="ss-e-1",
        bot_id="shortseller_001",
        symbol="BTCUSDT",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def test_life_cycle_new_partial_filled() -> None:
    order = _order().transition(S.PARTIALLY_FILLED, T0, filled_qty=Decimal("0.004"))
    order = order.transition(S.PARTIALLY_FILLED, T0, filled_qty=Decimal("0.008"))
    order = order.transition(S.FILLED, T0 + timedelta(seconds=1), filled_qty=Decimal("0.01"))
    assert order.status is S.FILLED and not order.is_open and order.remaining_qty == 0


def test_stale_update_after_terminal_state_is_refused() -> None:
    filled = _order(S.FILLED)
    with pytest.raises(InvalidTransition, match="Filled -> New"):
        filled.transition(S.NEW, T0)


def test_conditional_orders() -> None:
    assert can_transition(S.UNTRIGGERED, S.TRIGGERED)
    assert can_transition(S.UNTRIGGERED, S.DEACTIVATED)
    assert not can_transition(S.DEACTIVATED, S.TRIGGERED)
    assert can_transition(S.NEW, S.NEW)


def test_filled_qty_never_shrinks_or_exceeds_qty() -> None:
    order = _order().transition(S.PARTIALLY_FILLED, T0, filled_qty=Decimal("0.005"))
    with pytest.raises(InvalidField, match="would shrink"):
        order.transition(S.PARTIALLY_FILLED, T0, filled_qty=Decimal("0.004"))
    with pytest.raises(InvalidField, match="exceeds qty"):
        order.transition(S.FILLED, T0, filled_qty=Decimal("0.02"))
