from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument

BTC = Instrument(
    "BTCUSDT",
    tick_size=Decimal("0.10"),
    qty_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    min_notional=Decimal("5"),
    max_qty=Decimal("1190"),
)


def test_qty_rounds_down_to_step() -> None:
    assert BTC.round_qty(Decimal("0.0129")) == Decimal("0.012")
    assert BTC.round_qty(Decimal("0.012")) == Decimal("0.012")
    assert BTC.round_qty(Decimal("0.0009")) == Decimal("0.000")


def test_price_rounds_to_the_side_that_is_no_worse() -> None:
    assert BTC.round_price(Decimal("60000.07"), Side.BUY) == Decimal("60000.0")
    assert BTC.round_price(Decimal("60000.01"), Side.SELL) == Decimal("60000.1")
    assert BTC.round_price(Decimal("60000.06")) == Decimal("60000.1")


def test_qty_for_notional_never_exceeds_notional() -> None:
    qty = BTC.qty_for_notional(Decimal("700"), Decimal("60123.4"))
    assert qty == Decimal("0.011")
    assert qty * Decimal("60123.4") <= Decimal("700")


@given(
    qty=st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=6),
    step=st.sampled_from([Decimal("0.001"), Decimal("0.01"), Decimal("1"), Decimal("0.5")]),
)
def test_rounding_never_rounds_a_quantity_up(qty: Decimal, step: Decimal) -> None:
    inst = Instrument("X", Decimal("0.01"), step, step)
    rounded = inst.round_qty(qty)
    assert rounded <= qty
    assert qty - rounded < step
    assert rounded % step == 0


@pytest.mark.parametrize(
    ("qty", "price", "needle"),
    [
        (Decimal("0.0005"), Decimal("60000"), "not a multiple of qty_step"),
        (Decimal("0.0001"), Decimal("60000"), "not a multiple"),
        (Decimal("2000"), Decimal("60000"), "above max_qty"),
        (Decimal("0.001"), Decimal("1000"), "below min_notional 5"),
    ],
)
def test_check_order_names_the_rule(qty: Decimal, price: Decimal, needle: str) -> None:
    with pytest.raises(InvalidField, match=needle):
        BTC.check_order(qty, price)


def test_invalid_instrument_is_refused() -> None:
    with pytest.raises(InvalidField, match="instrument.tick_size"):
        Instrument("X", Decimal("0"), Decimal("1"), Decimal("1"))


def test_rounding_is_exact_beyond_28_digits() -> None:
    inst = Instrument("X", Decimal("0.001"), Decimal("0.001"), Decimal("0.001"))
    assert inst.round_qty(Decimal("0.99999999999999999999999999999")) == Decimal("0.999")
    assert inst.qty_for_notional(
        Decimal("99999.999999999999999999999999"), Decimal("100000")
    ) == Decimal("0.999")
    assert inst.round_price(Decimal("0.0015")) == Decimal("0.002")
    assert inst.round_price(Decimal("0.0025")) == Decimal("0.002")
    assert inst.round_price(Decimal("0.00250000000000000000000000001")) == Decimal("0.003")
