"""Rows that bypass the Fill constructor (a dict from a spool, a replay) are validated on the way
into the writer; a bad one is refused with an error naming the field and the value, and nothing
of its batch is stored."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from ledger_support import Ledger, MakeFill

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill

# Validation happens before the store is touched, so one backend is enough here.
pytestmark = pytest.mark.parametrize("ledger", ["sqlite"], indirect=True)


def _mapping(fill: Fill, **changes: Any) -> dict[str, Any]:
    row = {f.name: getattr(fill, f.name) for f in fields(Fill)}
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("changes", "field", "shown"),
    [
        ({"qty": Decimal("-0.5")}, "fill.qty", "Decimal('-0.5')"),
        ({"price": Decimal("0")}, "fill.price", "Decimal('0')"),
        ({"price": Decimal("-95900.1")}, "fill.price", "Decimal('-95900.1')"),
        ({"side": "buy"}, "fill.side", "'buy'"),
        ({"side": "Long"}, "fill.side", "'Long'"),
        (
            {"exec_time": datetime(2025, 5, 3, 11, 6, 40)},
            "fill.exec_time",
            "datetime.datetime(2025",
        ),
        ({"price": 95900.1}, "fill.price", "95900.1"),
        ({"fee": 26.3725275}, "fill.fee", "26.3725275"),
        ({"qty": "0.5"}, "fill.qty", "'0.5'"),
        ({"exec_type": "Liquidation"}, "fill.exec_type", "'Liquidation'"),
    ],
)
async def test_bad_rows_are_refused_naming_field_and_value(
    ledger: Ledger, make_fill: MakeFill, changes: dict[str, Any], field: str, shown: str
) -> None:
    good = make_fill()
    with pytest.raises(InvalidField) as caught:
        await ledger.writer.write_mappings([_mapping(good), _mapping(make_fill(), **changes)])
    assert caught.value.field == field
    assert field in str(caught.value) and shown in str(caught.value)
    assert await ledger.count("fills") == 0


async def test_unknown_or_missing_keys_are_refused(ledger: Ledger, make_fill: MakeFill) -> None:
    row = _mapping(make_fill(), leverage="10")
    with pytest.raises(InvalidField, match="leverage"):
        await ledger.writer.write_mappings([row])
    row = _mapping(make_fill())
    del row["exec_id"]
    with pytest.raises(InvalidField, match="exec_id"):
        await ledger.writer.write_mappings([row])
    assert await ledger.count("fills") == 0


async def test_a_dict_is_not_a_fill(ledger: Ledger, make_fill: MakeFill) -> None:
    with pytest.raises(InvalidField) as caught:
        await ledger.writer.write([make_fill(), _mapping(make_fill())])  # type: ignore[list-item]
    assert caught.value.field == "fills[1]"
    assert await ledger.count("fills") == 0


async def test_valid_mappings_are_written(ledger: Ledger, make_fill: MakeFill) -> None:
    fill = make_fill()
    result = await ledger.writer.write_mappings([_mapping(fill)])
    assert result.inserted == (fill.key,)
    assert await ledger.writer.read_fills() == [fill]
