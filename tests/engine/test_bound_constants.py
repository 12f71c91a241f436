"""Names the per-order path reads as Final module constants (C statics on the compiled build)
are the very objects and values they stand for, and the checks reading them answer as before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.domain import checks, intents
from alphadesk.domain.enums import Side
from alphadesk.engine import risk, runner
from alphadesk.strategies import ema_cross


def test_bound_names_are_the_objects_they_stand_for() -> None:
    assert runner._ONE is intents.ONE and risk._ONE is intents.ONE
    assert runner._SIDE is Side and runner._SIZE_HINTS == intents.SIZE_HINTS  # (a C tuple there)
    assert ema_cross._BUY is Side.BUY
    assert checks._DECIMAL is Decimal
    limits = (intents.BOT_ID_MAX_LEN, intents.SYMBOL_MAX_LEN, intents.REASON_MAX_LEN)
    assert limits == (50, 20, 50)


class _Dec(Decimal):
    pass


@pytest.mark.parametrize(
    "value",
    [
        Decimal(1),
        Decimal("0.0001"),
        Decimal(0),
        Decimal("-0"),
        Decimal(-1),
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        _Dec(1),
        _Dec(0),
        1,
        0,
        1.0,
        "1",
        None,
        True,
    ],
)
def test_plain_checks_accept_exactly_finite_decimals(value: object) -> None:
    plain = type(value) is Decimal and value.is_finite()  # type: ignore[union-attr]
    assert checks.plain_positive(value) is (plain and value > 0)  # type: ignore[operator]
    assert checks.plain_non_negative(value) is (plain and value >= 0)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("bot_id", "symbol", "reason", "expected"),
    [
        ("b" * 50, "S" * 20, "r" * 50, True),
        ("b" * 51, "S", "r", False),
        ("b", "S" * 21, "r", False),
        ("b", "S", "r" * 51, False),
        ("", "S", "r", False),
        ("b", "S\x00", "r", False),
    ],
)
def test_plain_intent_fields_keeps_the_limits(
    bot_id: str, symbol: str, reason: str, expected: bool
) -> None:
    assert checks.plain_intent_fields(0, bot_id, symbol, reason) is expected
