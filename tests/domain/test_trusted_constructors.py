"""The fast constructors used on the simulator's hot path build the same objects and refuse the
same bad values as the checking constructors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.orders import Order
from alphadesk.testing.builders import T0

FILL: dict[str, Any] = {
    "venue": "backtest",
    "account": "acc",
    "exec_id": "e-1",
    "bot_id": "shortseller_001",
    "symbol": "BTCUSDT",
    "side": Side.SELL,
    "price": Decimal("95900.1"),
    "qty": Decimal("0.015"),
    "fee": Decimal("0.79"),
    "exec_time": T0,
    "exec_type": ExecType.TRADE,
    "is_maker": False,
    "order_id": "o-1",
    "order_link_id": "shortseller_001-e-1",
    "order_type": "Market",
    "closed_size": Decimal("0"),
    "close_reason": "entry",
    "seq": 140612148849382,
}

ORDER: dict[str, Any] = {
    "order_id": "o-1",
    "order_link_id": "shortseller_001-e-1",
    "bot_id": "shortseller_001",
    "symbol": "BTCUSDT",
    "side": Side.BUY,
    "order_type": OrderType.MARKET,
    "qty": Decimal("0.015"),
    "status": OrderStatus.NEW,
    "created_at": T0,
    "updated_at": T0,
    "price": None,
    "trigger_price": None,
    "time_in_force": TimeInForce.GTC,
    "reduce_only": False,
    "filled_qty": Decimal("0"),
    "avg_fill_price": None,
    "reject_reason": "",
}


def test_trusted_fill_equals_the_checked_one() -> None:
    fast = Fill.trusted(**FILL)
    assert fast == Fill(**FILL)
    assert asdict(fast) == asdict(Fill(**FILL))
    assert fast.seq == 140612148849382
    unsequenced = {k: v for k, v in FILL.items() if k != "seq"}
    assert Fill.trusted(**unsequenced) == Fill(**unsequenced) and Fill(**unsequenced).seq is None
    assert fast.relabelled("exit").seq == fast.seq  # the slot replacer copies the new slot too


def test_trusted_order_equals_the_checked_one() -> None:
    assert Order.trusted(**ORDER) == Order(**ORDER)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", Decimal("0")),
        ("price", 95900.1),
        ("qty", Decimal("-1")),
        ("fee", Decimal("NaN")),
        ("exec_time", T0.replace(tzinfo=None)),
        ("exec_time", T0.astimezone(timezone(timedelta(hours=1)))),
        ("bot_id", ""),
        ("symbol", "X" * 21),
        ("seq", -1),
        ("seq", True),
        ("seq", 2**63),
    ],
)
def test_trusted_fill_refuses_what_the_checked_one_refuses(field: str, value: object) -> None:
    bad = FILL | {field: value}
    with pytest.raises(InvalidField) as checked:
        Fill(**bad)
    with pytest.raises(InvalidField) as fast:
        Fill.trusted(**bad)
    assert str(fast.value) == str(checked.value)


@pytest.mark.parametrize(
    ("field", "value"), [("qty", Decimal("0")), ("created_at", T0.replace(tzinfo=None))]
)
def test_trusted_order_refuses_what_the_checked_one_refuses(field: str, value: object) -> None:
    bad = ORDER | {field: value}
    with pytest.raises(InvalidField) as checked:
        Order(**bad)
    with pytest.raises(InvalidField) as fast:
        Order.trusted(**bad)
    assert str(fast.value) == str(checked.value)
