"""Names the per-order path reads as Final module constants (C statics on the compiled build)
are the very objects and values they stand for, and the checks reading them answer as before."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.engine.test_risk_and_state import BOT, make_engine

from alphadesk.domain import checks, intents, order_link
from alphadesk.domain.enums import POSITION_MOVERS, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.intents import EquityFraction, NotionalSize, RiskFraction
from alphadesk.domain.order_link import Purpose
from alphadesk.engine import portfolio, risk, runner
from alphadesk.strategies import ema_cross


def test_bound_names_are_the_objects_they_stand_for() -> None:
    assert runner._ONE is intents.ONE and risk._ONE is intents.ONE
    assert runner._SIDE is Side and runner._SIZE_HINTS == intents.SIZE_HINTS  # (a C tuple there)
    assert ema_cross._BUY is Side.BUY
    assert checks._DECIMAL is Decimal
    assert portfolio._MOVERS is POSITION_MOVERS
    assert (
        NotionalSize,
        EquityFraction,
        RiskFraction,
    ) == (risk._NOTIONAL_SIZE, risk._EQUITY_FRACTION, risk._RISK_FRACTION)
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


def _base36(value: int, width: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(digits[value // 36**k % 36] for k in reversed(range(width)))


def test_new_link_ids_are_the_codecs_for_every_kind() -> None:
    """Kinds without a level are remembered by purpose alone, take-profit levels by both: each
    id is ``order_link.encode`` with the deterministic nonce, however the kinds interleave, and
    a refused kind raises every time."""
    router = make_engine()[0].router
    calls: list[tuple[Purpose, int, int | None]] = [
        (Purpose.ENTRY, 1_758_672_000_000, None),
        (Purpose.MANUAL, 1_758_672_000_001, None),
        (Purpose.TAKE_PROFIT, 1_758_672_060_000, 1),
        (Purpose.TAKE_PROFIT, 1_758_672_060_000, 12),
        (Purpose.ENTRY, 36**8 + 5, None),
        (Purpose.STOP_LOSS, 0, None),
        (Purpose.TAKE_PROFIT, 1_758_672_060_001, 1),
        (Purpose.MANUAL, 2**40, None),
    ] * 3
    for counter, (purpose, now_ms, level) in enumerate(calls, start=1):
        nonce = _base36(now_ms % 36**8, 8) + _base36(counter % 1296, 2)
        expected = order_link.encode(BOT, purpose, level=level, nonce=nonce)
        assert router.new_link(purpose, now_ms, level) == expected
    for _ in range(2):
        with pytest.raises(InvalidField, match="order_link.level"):
            router.new_link(Purpose.TAKE_PROFIT, 0)
        with pytest.raises(InvalidField, match="order_link.level"):
            router.new_link(Purpose.MANUAL, 0, 3)
