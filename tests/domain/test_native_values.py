"""The domain values the backtest makes per order (bars, positions, fills, requests, intents)
behave the same on both builds: compiled by mypyc they are native classes (scripts/test runs
tests/domain again against that build), made by their modules' makers without ``__init__``.

Each maker gives what the constructor gives (type, fields, equality, hash); values pickle and
copy; they stay frozen; and a wrong value is refused with the InvalidField naming the field
(compiled, the native attribute's TypeError comes first and is turned into it)."""

from __future__ import annotations

import copy
import os
import pickle
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.domain import bars, fills, intents, positions, requests
from alphadesk.domain.bars import Bar, new_bar
from alphadesk.domain.enums import ExecType, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, make_fill
from alphadesk.domain.intents import (
    CancelIntent,
    EnterIntent,
    EquityFraction,
    ExitIntent,
    NotionalSize,
    RiskFraction,
    SetStopIntent,
    SetTrailingIntent,
    TakeProfitLevel,
    TrailingSpec,
    make_enter_intent,
    make_exit_intent,
    make_take_profit,
    make_trailing,
)
from alphadesk.domain.native_init import is_native
from alphadesk.domain.positions import Position
from alphadesk.domain.requests import (
    CancelRequest,
    OrderRequest,
    TradingStopRequest,
    make_order_request,
    make_trading_stop_request,
)

T0 = datetime(2025, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
# the constructors, untyped: the tests below give them wrong values on purpose
ANY_FILL: Any = Fill
ANY_ORDER: Any = OrderRequest
ANY_CANCEL: Any = CancelRequest
ANY_STOP: Any = TradingStopRequest
ANY_POSITION: Any = Position
ANY_BAR: Any = Bar


def _any(cls: type[Any]) -> Any:
    """The constructor, untyped: given wrong values on purpose."""
    return cls


@pytest.fixture
def native_build() -> bool:
    """Whether this run tests the mypyc build (scripts/test's native pass sets it)."""
    return os.environ.get("ALPHADESK_NATIVE") == "1"


def _fields(value: object) -> tuple[Any, ...]:
    return tuple(getattr(value, f.name) for f in fields(value))  # type: ignore[arg-type]


def _same(made: object, built: object) -> None:
    assert type(made) is type(built)
    assert _fields(made) == _fields(built)
    assert [type(v) for v in _fields(made)] == [type(v) for v in _fields(built)]
    assert made == built and hash(made) == hash(built)


def _survives_copies(value: object) -> None:
    for copied in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        _same(copied, value)


def test_the_build_is_the_one_asked_for(native_build: bool) -> None:
    """Under ALPHADESK_NATIVE=1 the values really are native classes (else this file would test
    the pure build twice); on the pure build they are plain slotted dataclasses."""
    for cls in (Bar, Position, Fill, OrderRequest, CancelRequest, TradingStopRequest, EnterIntent,
                ExitIntent, NotionalSize, EquityFraction, RiskFraction, TakeProfitLevel,
                TrailingSpec, SetStopIntent, SetTrailingIntent, CancelIntent):  # fmt: skip
        assert is_native(cls) is native_build
    for module in (bars, positions, fills, requests, intents):
        assert module._NATIVE is native_build


BAR_VALUES = ("BTCUSDT", 5, 1_700_000_000_000, 1.5, 2.25, 1.0, 2.0, 10.0, 0.0)


def test_new_bar_is_the_constructors_bar() -> None:
    made = new_bar(*BAR_VALUES)
    _same(made, Bar(*BAR_VALUES))
    assert made.close_time_ms == 1_700_000_300_000
    assert made.close_time == datetime(2023, 11, 14, 22, 18, 20, tzinfo=UTC)
    _survives_copies(made)


def test_position_maker_folds_as_the_constructor() -> None:
    flat = Position("bot", "BTCUSDT")
    fill = Fill("sim", "acct", "e1", "bot", "BTCUSDT", Side.BUY, Decimal("100.5"), Decimal("2"),
                Decimal("0.1"), T0)  # fmt: skip
    after = flat.apply(fill)
    built = Position("bot", "BTCUSDT", Decimal(2), Decimal("201.0"), Decimal("-0.1"),
                     Decimal("0.1"), Decimal(0), T0)  # fmt: skip
    _same(after, built)
    assert after.side is Side.BUY and after.avg_entry_price == Decimal("100.5")
    _survives_copies(after)
    _survives_copies(flat)


FILL_VALUES = (
    "sim", "acct", "e1", "bot", "BTCUSDT", Side.SELL, Decimal("100.5"), Decimal("2"),
    Decimal("-0.01"), T0, ExecType.TRADE, "USDT", True, "o1", "link", "Market", Decimal("1"),
    "tp", 7,
)  # fmt: skip


def test_make_fill_is_the_constructors_fill() -> None:
    made = make_fill(*FILL_VALUES)
    _same(made, Fill(*FILL_VALUES))
    _same(Fill.trusted(*FILL_VALUES[:11], *FILL_VALUES[12:]), made)  # trusted has no currency
    _survives_copies(made)
    relabelled = made.relabelled("sl")
    _same(relabelled, Fill(*FILL_VALUES[:17], "sl", 7))
    assert made.close_reason == "tp"


def test_texts_for_side_and_exec_type_are_parsed_on_both_builds() -> None:
    """Compiled, a text cannot be stored in the enum field: the constructor parses it first."""
    fill = ANY_FILL(*FILL_VALUES[:5], "Buy", *FILL_VALUES[6:10], "Funding", *FILL_VALUES[11:])
    assert fill.side is Side.BUY and fill.exec_type is ExecType.FUNDING


@pytest.mark.parametrize("seq", [True, False, -1, 2**63])
def test_trusted_refuses_a_seq_that_is_not_a_plain_int(seq: object) -> None:
    """Compiled, ``True`` would pass an ``int`` check narrowed from ``int | None``."""
    with pytest.raises(InvalidField) as refused:
        ANY_FILL.trusted(*FILL_VALUES[:11], *FILL_VALUES[12:18], seq)
    assert refused.value.field == "fill.seq" and refused.value.value is seq


@pytest.mark.parametrize(
    ("field", "value"), [("is_maker", 1), ("venue", 5), ("price", "1.5"), ("exec_time", 0)]
)
def test_a_fill_field_of_the_wrong_type_is_named(field: str, value: object) -> None:
    names = [f.name for f in fields(Fill)]
    values = list(FILL_VALUES)
    values[names.index(field)] = value
    with pytest.raises(InvalidField) as refused:
        ANY_FILL(*values)
    assert refused.value.field == f"fill.{field}" and refused.value.value == value


D = Decimal
ORDER_VALUES = ("bot", "BTCUSDT", Side.BUY, D("0.5"), "link-1", OrderType.LIMIT, D("100.5"),
                TimeInForce.IOC, True, D("99"), D("120"), D("90"))  # fmt: skip
STOP_VALUES = ("bot", "BTCUSDT", None, D("90"), D("1.5"), D("101"))


def test_request_makers_are_the_constructors_requests() -> None:
    made = make_order_request(*ORDER_VALUES)
    _same(made, OrderRequest(*ORDER_VALUES))
    _survives_copies(made)
    stop = make_trading_stop_request(*STOP_VALUES)
    _same(stop, TradingStopRequest(*STOP_VALUES))
    _survives_copies(stop)
    _survives_copies(CancelRequest("bot", "BTCUSDT", order_link_id="link-1"))


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda: ANY_ORDER(*ORDER_VALUES[:8], 1), "order.reduce_only", 1),
        (lambda: ANY_ORDER(*ORDER_VALUES[:3], 0.5, "l"), "order.qty", 0.5),
        (lambda: ANY_ORDER(*ORDER_VALUES[:4], 7), "order.order_link_id", 7),
        (lambda: ANY_ORDER("b", "S", Side.BUY, D(1), "l", OrderType.LIMIT), "order.price", None),
        (lambda: ANY_CANCEL("bot", "BTCUSDT", 5), "cancel.order_id", 5),
        (lambda: ANY_CANCEL("bot", None, "o1"), "cancel.symbol", None),
        (lambda: ANY_CANCEL("bot", "BTCUSDT"), "cancel.order_id", ""),
        (lambda: ANY_STOP("b", "S", stop_loss=D(-1)), "trading_stop.stop_loss", D(-1)),
        (lambda: ANY_STOP("b", "S", active_price=1.5), "trading_stop.active_price", 1.5),
        (lambda: ANY_STOP(3, "S"), "trading_stop.bot_id", 3),
    ],
)
def test_a_wrong_request_field_is_named_on_both_builds(
    make: Any, field: str, value: object
) -> None:
    with pytest.raises(InvalidField) as refused:
        make()
    assert refused.value.field == field and refused.value.value == value


def test_an_enum_field_given_as_text_is_kept_on_both_builds() -> None:
    """An enum field is an object slot even compiled (mypyc does not check enum types), so a
    text is stored as given on both builds: the simulator's copy parses or refuses it
    (tests/sim/test_place_events.py)."""
    request = ANY_ORDER("bot", "BTCUSDT", "Buy", D(1), "l", "Market", None, "GTC")
    assert (request.side, request.order_type, request.time_in_force) == ("Buy", "Market", "GTC")
    assert type(request.side) is str


TP = make_take_profit(D("120"), D("0.5"))
TRAIL = make_trailing(D("2.5"), None)
ENTER_VALUES = (1_700_000_000_000, "bot", "BTCUSDT", Side.SELL, NotionalSize(usdt=D(200)), "cross",
                D("100.5"), D("110"), (TP,), TRAIL)  # fmt: skip
ENTER_NAMES = ("time_ms", "bot_id", "symbol", "side", "size", "reason", "ref_price", "stop_loss",
               "take_profits", "trailing")  # fmt: skip


def test_intent_makers_are_the_constructors_intents() -> None:
    _same(TP, TakeProfitLevel(price=D("120"), fraction=D("0.5")))
    _same(TRAIL, TrailingSpec(distance=D("2.5")))
    enter = make_enter_intent(*ENTER_VALUES)
    _same(enter, _any(EnterIntent)(**dict(zip(ENTER_NAMES, ENTER_VALUES, strict=True))))
    exit_ = make_exit_intent(1, "bot", "BTCUSDT", "tp", D("0.25"))
    _same(exit_, ExitIntent(time_ms=1, bot_id="bot", symbol="BTCUSDT", reason="tp",
                            fraction=D("0.25")))  # fmt: skip
    for value in (enter, exit_, TP, TRAIL, EquityFraction(fraction=D("0.07"), leverage=D(10)),
                  RiskFraction(risk=D("0.05"), stop_distance_pct=D("0.1"), cap_fraction=D("0.2")),
                  SetStopIntent(time_ms=2, bot_id="b", symbol="S", stop_loss=D(1), reason="be"),
                  SetTrailingIntent(time_ms=2, bot_id="b", symbol="S", trailing=TRAIL, reason="t"),
                  CancelIntent(time_ms=3, bot_id="b", symbol="S", reason="c")):  # fmt: skip
        _survives_copies(value)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(ExitIntent, "exit"), (CancelIntent, "cancel"), (SetStopIntent, "set_stop")],
)
def test_an_intent_time_of_true_is_refused_on_both_builds(cls: Any, kind: str) -> None:
    """Compiled, an int field would store True as 1 and the check would pass: it is named."""
    extra: dict[str, Any] = {"stop_loss": D(1)} if cls is SetStopIntent else {}
    with pytest.raises(InvalidField) as refused:
        cls(time_ms=True, bot_id="b", symbol="S", reason="r", **extra)
    assert refused.value.field == f"{kind}.time_ms" and refused.value.value is True


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda: _any(NotionalSize)(usdt=200), "size.usdt", 200),
        (lambda: _any(EquityFraction)(fraction=D("0.1"), leverage="10"), "size.leverage", "10"),
        (lambda: _any(TakeProfitLevel)(price=1.5), "take_profit.price", 1.5),
        (lambda: _any(TrailingSpec)(distance=D(1), activation_price=2), "trailing.activation_price",
         2),
        (lambda: _any(ExitIntent)(time_ms=1, bot_id=5, symbol="S", reason="r"), "exit.bot_id", 5),
    ],
)
def test_a_wrong_intent_field_is_named(make: Any, field: str, value: object) -> None:
    with pytest.raises(InvalidField) as refused:
        make()
    assert refused.value.field == field and refused.value.value == value


@pytest.mark.parametrize(
    "value",
    [
        new_bar(*BAR_VALUES),
        make_enter_intent(*ENTER_VALUES),
        Position("bot", "BTCUSDT"),
        make_fill(*FILL_VALUES),
        make_order_request(*ORDER_VALUES),
        make_trading_stop_request(*STOP_VALUES),
        CancelRequest("bot", "BTCUSDT", "o1"),
    ],
)
def test_values_stay_frozen(value: object) -> None:
    name = fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        setattr(value, name, "other")
    with pytest.raises(FrozenInstanceError):
        delattr(value, name)


def test_a_wrong_type_names_the_field(native_build: bool) -> None:
    """Position checks no field itself; compiled, a wrong type is still refused naming the
    field (the pure build takes it as the dataclass always did)."""
    if not native_build:
        assert ANY_POSITION("bot", 7).symbol == 7
        return
    with pytest.raises(InvalidField) as refused:
        ANY_POSITION("bot", 7)
    assert refused.value.field == "position.symbol" and refused.value.value == 7
    assert refused.value.__context__ is None  # no mypyc TypeError trailing behind it


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("open", "1.5"), ("high", Decimal("2")), ("close", True), ("volume", None),
        ("interval_min", True), ("interval_min", 1.5), ("open_time_ms", False), ("symbol", 5),
    ],
)  # fmt: skip
def test_a_bar_refuses_what_a_native_field_would_convert_on_both_builds(
    field: str, value: object
) -> None:
    """A compiled float field takes any number (a Decimal silently made a float) and an int
    field keeps True as 1: the bar's own checks run first, on both builds, and name the field."""
    values = dict(zip([f.name for f in fields(Bar)], BAR_VALUES, strict=True))
    with pytest.raises(InvalidField) as refused:
        ANY_BAR(**(values | {field: value}))
    assert refused.value.field == f"bar.{field}" and refused.value.value is value


def test_an_int_bar_price_is_a_float_on_both_builds() -> None:
    bar = ANY_BAR("BTCUSDT", 5, 0, 100, 101, 99, 100, 7)
    prices = ("open", "high", "low", "close", "volume")
    assert [type(getattr(bar, name)) for name in prices] == [float] * 5
    assert bar == Bar("BTCUSDT", 5, 0, 100.0, 101.0, 99.0, 100.0, 7.0)


def test_a_leniently_read_fill_copies_as_it_is() -> None:
    """A ledger row a newer bound refuses is still read (fill_as_recorded) and must copy and
    pickle like any fill: copying restores the fields, it does not check them again."""
    from alphadesk.domain.fills import fill_as_recorded

    row = dict(zip([f.name for f in fields(Fill)], FILL_VALUES, strict=True))
    lenient = fill_as_recorded(row | {"symbol": "BTC:X", "fee": D("-0.5"), "is_maker": False})
    assert lenient.symbol == "BTC:X"
    _survives_copies(lenient)


def test_the_intent_time_of_true_reads_as_on_the_pure_build() -> None:
    with pytest.raises(InvalidField, match="must be epoch milliseconds"):
        _any(ExitIntent)(time_ms=True, bot_id="b", symbol="S", reason="r")


def test_constructors_keep_their_signatures() -> None:
    import inspect

    for cls in (Bar, Position, Fill, OrderRequest, EnterIntent, TakeProfitLevel):
        assert list(inspect.signature(cls).parameters) == [f.name for f in fields(cls)]


def test_a_wrong_call_is_still_the_constructors_type_error() -> None:
    with pytest.raises(TypeError, match=r"__init__\(\) missing 1 required positional argument"):
        ANY_POSITION("bot")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nonsense'"):
        ANY_BAR(*BAR_VALUES, nonsense=1)
    with pytest.raises(TypeError, match=r"__init__\(\) missing"):
        ANY_FILL(*FILL_VALUES[:5])


@pytest.mark.parametrize(
    "cls",
    [Bar, Position, Fill, OrderRequest, TradingStopRequest, EnterIntent, ExitIntent,
     TakeProfitLevel, TrailingSpec],
)
def test_a_makers_class_new_only_allocates(cls: Any) -> None:
    """The classes the makers allocate define ``__new__`` (compiled, a direct native call): it
    takes and ignores the constructor's arguments and sets no field; the constructor, keywords
    included, still builds the whole value (the tests above)."""
    made = cls.__new__(cls, "ignored", key="ignored")
    assert type(made) is cls
    with pytest.raises(AttributeError):
        getattr(made, fields(cls)[0].name)
