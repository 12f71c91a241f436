"""The strategies' take-profit and trailing makers: the constructors' objects, the same refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.intents import TakeProfitLevel, TrailingSpec
from alphadesk.strategies.protection import take_profit, trailing

D = Decimal


def test_a_plain_level_and_spec_are_the_constructors() -> None:
    level = take_profit(D("95000.5"))
    assert type(level) is TakeProfitLevel
    assert level == TakeProfitLevel(price=D("95000.5"))
    assert hash(level) == hash(TakeProfitLevel(price=D("95000.5")))
    for activation in (None, D("101000")):
        spec = trailing(D("500"), activation)
        assert type(spec) is TrailingSpec
        assert spec == TrailingSpec(distance=D(500), activation_price=activation)
    assert trailing(distance=D(7)) == TrailingSpec(distance=D(7))


@pytest.mark.parametrize("bad", [D(0), D(-1), D("NaN"), D("Infinity"), D("-Infinity")])
def test_a_price_the_check_refuses_is_refused_naming_the_field(bad: Decimal) -> None:
    with pytest.raises(InvalidField) as level:
        take_profit(bad)
    assert level.value.field == "take_profit.price"
    with pytest.raises(InvalidField) as distance:
        trailing(bad)
    assert distance.value.field == "trailing.distance"
    with pytest.raises(InvalidField) as activation:
        trailing(D(5), bad)
    assert activation.value.field == "trailing.activation_price"
