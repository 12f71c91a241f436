"""Bad input is refused at construction, naming the field and the value."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import fill_from_mapping
from alphadesk.testing.builders import make_fill


def _good() -> dict[str, object]:
    return {
        "venue": "bybit",
        "account": "acc",
        "exec_id": "e1",
        "bot_id": "lxalgo_001",
        "symbol": "ETHUSDT",
        "side": Side.BUY,
        "price": Decimal("3000.5"),
        "qty": Decimal("0.01"),
        "fee": Decimal("0.0165"),
        "exec_time": datetime(2025, 10, 24, 5, 15, 47, 599000, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("qty", Decimal("-1"), "fill.qty=Decimal('-1'): must be > 0"),
        ("qty", Decimal("0"), "fill.qty=Decimal('0'): must be > 0"),
        ("price", Decimal("0"), "fill.price=Decimal('0'): must be > 0"),
        ("price", Decimal("-3"), "fill.price=Decimal('-3'): must be > 0"),
        ("price", 3000.5, "fill.price=3000.5: must be Decimal, not float"),
        ("qty", 1, "fill.qty=1: must be Decimal, not int"),
        ("fee", 0.1, "fill.fee=0.1: must be Decimal, not float"),
        ("price", Decimal("NaN"), "fill.price=Decimal('NaN'): must be finite"),
        ("side", "BUY", "fill.side='BUY': must be 'Buy' or 'Sell'"),
        ("side", "long", "fill.side='long'"),
        ("exec_type", "Liquidation", "fill.exec_type='Liquidation'"),
        ("exec_time", datetime(2025, 1, 1), "fill.exec_time=datetime.datetime(2025, 1, 1, 0, 0)"),
        (
            "exec_time",
            datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2))),
            "must be in UTC",
        ),
        ("exec_time", 1761338358429, "must be datetime, not int"),
        ("exec_id", "", "fill.exec_id='': must not be empty"),
    ],
)
def test_bad_fields_are_refused_with_field_and_value(
    field: str, value: object, needle: str
) -> None:
    data = _good() | {field: value}
    with pytest.raises(InvalidField) as info:
        fill_from_mapping(data)
    assert needle in str(info.value)
    assert info.value.field == f"fill.{field}"


def test_naive_datetime_message_says_naive() -> None:
    with pytest.raises(InvalidField, match="naive"):
        fill_from_mapping(_good() | {"exec_time": datetime(2025, 1, 1)})


def test_unknown_key_is_refused() -> None:
    with pytest.raises(InvalidField, match="execPrice"):
        fill_from_mapping(_good() | {"execPrice": "1"})


def test_strings_for_side_and_exec_type_are_normalised() -> None:
    fill = fill_from_mapping(_good() | {"side": "Sell", "exec_type": "Funding"})
    assert fill.side is Side.SELL
    assert fill.exec_type is ExecType.FUNDING
    assert not fill.moves_position


def test_key_and_signed_qty() -> None:
    fill = make_fill("Sell", "0.5", "100", exec_id="x")
    assert fill.key == fill.key.__class__("bybit", "shortseller", "x")
    assert fill.signed_qty == Decimal("-0.5")
    assert fill.notional == Decimal("50.0")


def test_forced_exec_types_are_flagged_and_move_position() -> None:
    for kind in (ExecType.ADL_TRADE, ExecType.BUST_TRADE):
        assert kind.is_forced and kind.moves_position
    assert not ExecType.TRADE.is_forced
    assert not ExecType.SETTLE.moves_position


def test_relabelled_changes_only_the_reason_and_checks_it() -> None:
    fill = make_fill("Sell", "0.5", "101.5", "0.02", exec_id="relabel-1", close_reason="x")
    again = fill.relabelled("ema_cross_down")
    assert again == replace(fill, close_reason="ema_cross_down")
    assert again.key == fill.key and again is not fill
    with pytest.raises(InvalidField, match="fill.close_reason"):
        fill.relabelled("r" * 51)
