"""A take-profit level and a trailing spec for an entry, without their interpreted constructors.

The built-in strategies make both once per entry (compiled, on the mypyc build): calling the
frozen dataclass costs its generated ``__init__``, two field stores and a ``__post_init__`` whose
checks call further. A price these checks plainly accept (a finite Decimal > 0,
:func:`~alphadesk.domain.checks.plain_positive`) is all they look at, so the value is made by its
module's maker then (``make_take_profit``, ``make_trailing``: the fields stored directly), the
same object as the constructor's; anything else goes through the constructor, refused there
naming the field.
"""

from __future__ import annotations

from decimal import Decimal

from alphadesk.domain.checks import plain_positive
from alphadesk.domain.intents import (
    ONE,
    TakeProfitLevel,
    TrailingSpec,
    make_take_profit,
    make_trailing,
)


def take_profit(price: Decimal) -> TakeProfitLevel:
    """``TakeProfitLevel(price=price)``: the whole position closes at ``price``."""
    if plain_positive(price):
        return make_take_profit(price, ONE)  # the fraction is ONE, which the level accepts
    return TakeProfitLevel(price=price)


def trailing(distance: Decimal, activation_price: Decimal | None = None) -> TrailingSpec:
    """``TrailingSpec(distance=distance, activation_price=activation_price)``."""
    if plain_positive(distance) and (activation_price is None or plain_positive(activation_price)):
        return make_trailing(distance, activation_price)
    return TrailingSpec(distance=distance, activation_price=activation_price)
