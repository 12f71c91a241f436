"""Bad input is refused at construction, naming the field and the value."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from alphadesk.domain import checks
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, fill_as_recorded, fill_from_mapping
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


# --- sanity bounds: what Bybit can never send is refused, naming the field and the value -----

D = Decimal


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"price": D("1e400")}, "fill.price", "at most 1E+12"),
        ({"price": D("1e-400")}, "fill.price", "at least 1E-12"),
        ({"price": D("Infinity")}, "fill.price", "must be finite"),
        ({"price": D("0.0000000000001")}, "fill.price", "at least 1E-12"),
        ({"qty": D("1e-400")}, "fill.qty", "at least 1E-12"),
        ({"qty": D("1000000000000.5")}, "fill.qty", "at most 1E+12"),
        ({"qty": D("0.1234567890123456789")}, "fill.qty", "at most 18 decimal places"),
        ({"fee": D("1e400")}, "fill.fee", "at most 1E+12"),
        ({"fee": D("-1e400"), "is_maker": True}, "fill.fee", "at most 1E+12"),
        ({"fee": D("1e-400")}, "fill.fee", "at most 28 decimal places"),
        ({"fee": D("NaN")}, "fill.fee", "must be finite"),
        ({"fee": D("-0.0165")}, "fill.fee", "must be >= 0 on a taker fill"),
        ({"fee": D("0.31")}, "fill.fee", "at most 1% of the notional 30.005"),
        ({"fee": D("-0.31"), "is_maker": True}, "fill.fee", "at most 1% of the notional"),
        ({"closed_size": D("1e400")}, "fill.closed_size", "at most 1E+12"),
        ({"exec_time": datetime(2017, 12, 31, tzinfo=UTC)}, "fill.exec_time", "[2018-01-01"),
        ({"exec_time": datetime(2100, 1, 1, tzinfo=UTC)}, "fill.exec_time", "2100-01-01)"),
        ({"symbol": "BTC:USDT"}, "fill.symbol", "must not contain ':'"),
        ({"symbol": "BTC USDT"}, "fill.symbol", "must not contain ' '"),
        ({"symbol": "BTC*"}, "fill.symbol", "must not contain '*'"),
        ({"symbol": "BTC\x00USDT"}, "fill.symbol", "control characters"),
        ({"bot_id": "bot:1"}, "fill.bot_id", "must not contain ':'"),
        ({"exec_id": "e\x00 1"}, "fill.exec_id", "control characters"),
        ({"exec_id": "e\x1b[31m"}, "fill.exec_id", "control characters"),
        ({"order_id": "o\n1"}, "fill.order_id", "control characters"),
        ({"order_link_id": "l\x7f"}, "fill.order_link_id", "control characters"),
        ({"account": "a\x85"}, "fill.account", "control characters"),
    ],
)
def test_values_bybit_cannot_send_are_refused(
    change: dict[str, object], field: str, needle: str
) -> None:
    with pytest.raises(InvalidField) as info:
        fill_from_mapping(_good() | change)
    assert info.value.field == field
    assert needle in str(info.value) and str(info.value).startswith(f"{field}=")


@pytest.mark.parametrize(
    "change",
    [
        {"fee": D("-0.0165"), "is_maker": True},  # a maker's rebate
        {"fee": D("0.30005")},  # exactly 1 % of the notional 30.005
        {"fee": D("-12.5"), "exec_type": ExecType.FUNDING},  # funding: either sign, any size
        {"fee": D("0.000000000000000000000000001")},  # a tiny rate times a tiny notional
        {"price": D("0.000000000001"), "qty": D("1000000000000"), "fee": D(0)},  # both bounds
        {"price": D("95900.123456789012345678")},  # 18 places, every digit kept
        {"qty": D("0.500000000000000000000000000")},  # trailing zeros are no precision
        {"symbol": "1000PEPEUSDT", "bot_id": "lxalgo_001"},
        {"exec_id": "ünïcödé-id", "order_link_id": "tag—1"},
        {"exec_time": datetime(2018, 1, 1, tzinfo=UTC)},
        {"exec_time": datetime(2099, 12, 31, 23, 59, tzinfo=UTC)},
    ],
)
def test_values_inside_the_bounds_are_kept_exactly(change: dict[str, object]) -> None:
    fill = fill_from_mapping(_good() | change)
    for name, value in change.items():
        assert getattr(fill, name) == value and str(getattr(fill, name)) == str(value)


def test_trusted_fills_outside_the_bounds_go_through_the_checks() -> None:
    def trusted(price: Decimal, at: datetime) -> Fill:
        return Fill.trusted(
            venue="sim", account="a", exec_id="e", bot_id="b", symbol="BTCUSDT", side=Side.BUY,
            price=price, qty=D("0.01"), fee=D(0), exec_time=at,
        )  # fmt: skip

    at = datetime(2025, 10, 24, tzinfo=UTC)
    assert trusted(D("3000.5"), at).price == D("3000.5")
    with pytest.raises(InvalidField, match="fill.price"):
        trusted(D("1e400"), at)
    with pytest.raises(InvalidField, match="fill.exec_time"):
        trusted(D("3000.5"), datetime(2100, 1, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("value", "plain", "ok"),
    [
        ("BTCUSDT", True, True),
        ("a\x00b", False, False),  # NUL: never, in any text
        ("line one\nline two", False, True),  # a free text may span lines
        ("line one\nline two", True, False),
        ("\x9b", True, False),  # C1 control
        ("\u00a0nbsp and ünïcödé", True, True),
    ],
)
def test_text_refuses_nul_everywhere_and_control_characters_in_plain_text(
    value: str, plain: bool, ok: bool
) -> None:
    if ok:
        assert checks.text("f", value, plain=plain) == value
    else:
        with pytest.raises(InvalidField, match=r"^f="):
            checks.text("f", value, plain=plain)


@pytest.mark.parametrize(
    "ms", ["253402300800000", "99999999999999999999999", "1" * 5000, float("inf"), "1e3"]
)
def test_epoch_ms_past_year_9999_or_not_an_integer_is_a_field_error(ms: object) -> None:
    with pytest.raises(InvalidField, match=r"^execTime="):
        checks.from_epoch_ms("execTime", ms)


def test_the_last_epoch_ms_a_datetime_holds_is_read() -> None:
    assert checks.from_epoch_ms("t", "253402300799999").year == 9999


def test_a_recorded_fill_refused_by_newer_bounds_is_still_read_as_stored() -> None:
    stored = _good() | {"symbol": "BTC:USDT", "fee": D("-0.01")}  # before today's checks
    fill = fill_as_recorded(stored)
    assert (fill.symbol, fill.fee, fill.side) == ("BTC:USDT", D("-0.01"), Side.BUY)
    assert fill_as_recorded(_good()) == fill_from_mapping(_good())
    for wrong in ({"price": 3000.5}, {"side": "long"}, {"exec_time": datetime(2025, 1, 1)}):
        with pytest.raises(InvalidField, match="fill.symbol"):  # the first refusal is told
            fill_as_recorded(stored | wrong)  # a wrong type is never read past
