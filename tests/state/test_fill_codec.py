"""The serialised fill round-trips exactly: every Decimal digit, exec_type, UTC time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.adapters.spool.fill_codec import decode_fill, encode_fill
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.testing.builders import make_fill

# Within the fill's own bounds: plain text (no control characters; no key separators in the
# bot id and symbol), amounts in [1e-12, 1e12] with at most 18 places, times in 2018..2100.
_PLAIN = st.characters(exclude_categories=("Cc", "Cs"))
_ID = st.text(_PLAIN, min_size=1, max_size=30)
_KEY = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=":*?[]{}\\ \t\r\n"),
    min_size=1, max_size=20,
)  # fmt: skip
_POSITIVE = st.decimals(
    min_value=Decimal("1e-12"), max_value=Decimal("1e12"), places=12, allow_nan=False,
    allow_infinity=False,
)  # fmt: skip
_ANY = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=18,  # 28 digits
                   allow_nan=False, allow_infinity=False)  # fmt: skip
_TIME = st.datetimes(
    min_value=datetime(2018, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)

_FIELDS = st.fixed_dictionaries(
    {
        "venue": _ID,
        "account": _ID,
        "exec_id": _ID,
        "bot_id": _KEY,
        "symbol": _KEY,
        "side": st.sampled_from(Side),
        "price": _POSITIVE,
        "qty": _POSITIVE,
        "fee": _ANY,
        "exec_time": _TIME,
        "exec_type": st.sampled_from(ExecType),
        "fee_currency": st.text(_PLAIN, max_size=16),
        "is_maker": st.booleans(),
        "order_id": st.text(_PLAIN, max_size=40),
        "order_link_id": st.text(_PLAIN, max_size=36),
        "order_type": st.sampled_from(["", "Market", "Limit"]),
        "closed_size": st.just(Decimal(0)) | _POSITIVE,
        "close_reason": st.text(_PLAIN, max_size=50),
        "seq": st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    }
)


def _fill(fields: dict[str, Any]) -> Fill:
    """A trade's fee is at most 1 % of its notional and a taker's is not negative; any other
    drawn fee on a trade is replaced by none (funding keeps any fee)."""
    fee = fields["fee"]
    if fields["exec_type"].moves_position and (
        abs(fee) > fields["price"] * fields["qty"] / 100 or (fee < 0 and not fields["is_maker"])
    ):
        fields = fields | {"fee": Decimal(0)}
    return Fill(**fields)


fills = _FIELDS.map(_fill)


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
    fill = make_fill(price="95900.10", qty="0.500", fee="-0.0001", is_maker=True)
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
        ({"seq": "7"}, "fill.seq"),
        ({"seq": -1}, "fill.seq"),
        ({"seq": True}, "fill.seq"),
    ],
)
def test_bad_records_name_the_field(change: dict[str, object], field: str) -> None:
    data = json.loads(encode_fill(make_fill()))
    data.update(change)
    with pytest.raises(InvalidField) as err:
        decode_fill(json.dumps(data))
    assert err.value.field == field


def test_seq_is_carried_and_old_records_without_it_still_decode() -> None:
    """The venue's ``seq`` travels with the fill; a record written before it was kept (no
    ``seq`` key, still format 1) reads back as a fill without one."""
    fill = make_fill(seq=140612148849382)
    data = json.loads(encode_fill(fill))
    assert data["seq"] == 140612148849382 and data["v"] == 1
    assert decode_fill(encode_fill(fill)) == fill
    old = {k: v for k, v in data.items() if k != "seq"}
    decoded = decode_fill(json.dumps(old))
    assert decoded.seq is None and decoded.exec_id == fill.exec_id
    assert "seq" not in json.loads(encode_fill(make_fill()))


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidField) as err:
        decode_fill(b"{not json")
    assert err.value.field == "fill"
