"""The serialised fill round-trips exactly: every Decimal digit, exec_type, UTC time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.adapters.spool.fill_codec import decode_fill, encode_fill
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.testing.builders import make_fill

_ID = st.text(min_size=1, max_size=30)
_POSITIVE = st.decimals(
    min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False
)
_ANY = st.decimals(allow_nan=False, allow_infinity=False)
_TIME = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)

fills = st.builds(
    Fill,
    venue=_ID,
    account=_ID,
    exec_id=_ID,
    bot_id=_ID,
    symbol=st.text(min_size=1, max_size=20),
    side=st.sampled_from(Side),
    price=_POSITIVE,
    qty=_POSITIVE,
    fee=_ANY,
    exec_time=_TIME,
    exec_type=st.sampled_from(ExecType),
    fee_currency=st.text(max_size=16),
    is_maker=st.booleans(),
    order_id=st.text(max_size=40),
    order_link_id=st.text(max_size=36),
    order_type=st.sampled_from(["", "Market", "Limit"]),
    closed_size=st.decimals(min_value=0, allow_nan=False, allow_infinity=False),
    close_reason=st.text(max_size=50),
)


def same(a: Fill, b: Fill) -> None:
    assert a == b
    for name in ("price", "qty", "fee", "closed_size"):  # same digits, not only the same value
        assert str(getattr(a, name)) == str(getattr(b, name))
    assert b.exec_time.utcoffset() == timedelta(0)


@given(fills)
def test_any_valid_fill_round_trips(fill: Fill) -> None:
    same(fill, decode_fill(encode_fill(fill)))


def test_real_bybit_fills_round_trip(real_fills: list[Fill]) -> None:
    for fill in real_fills:
        same(fill, decode_fill(encode_fill(fill)))
    assert {f.exec_type for f in real_fills} >= {ExecType.TRADE, ExecType.ADL_TRADE}


def test_wire_form_uses_decimal_strings_and_epoch_ms() -> None:
    fill = make_fill(price="95900.10", qty="0.500", fee="-0.0001")
    data = json.loads(encode_fill(fill))
    assert (data["price"], data["qty"], data["fee"]) == ("95900.10", "0.500", "-0.0001")
    assert data["exec_time"] == 1762480500000 and "exec_time_us" not in data
    assert data["exec_type"] == "Trade" and data["side"] == "Buy" and data["v"] == 1


def test_sub_millisecond_time_is_kept() -> None:
    fill = make_fill(seconds=0.000123)
    data = json.loads(encode_fill(fill))
    assert data["exec_time_us"] == 123
    assert decode_fill(encode_fill(fill)).exec_time == fill.exec_time


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": 1.5}, "fill.price"),
        ({"price": "abc"}, "fill.price"),
        ({"exec_time": "1762480500000"}, "fill.exec_time"),
        ({"exec_time_us": 1000}, "fill.exec_time_us"),
        ({"v": 2}, "fill.v"),
        ({"side": "buy"}, "fill.side"),
        ({"qty": "0"}, "fill.qty"),
    ],
)
def test_bad_records_name_the_field(change: dict[str, object], field: str) -> None:
    data = json.loads(encode_fill(make_fill()))
    data.update(change)
    with pytest.raises(InvalidField) as err:
        decode_fill(json.dumps(data))
    assert err.value.field == field


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidField) as err:
        decode_fill(b"{not json")
    assert err.value.field == "fill"
