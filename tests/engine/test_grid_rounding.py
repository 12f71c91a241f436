"""The tick/step rounding (``domain.grid``), the risk gate's compiled shortcuts to Instrument's
rounding methods and the simulator's on-grid checks give what the old interpreted ``_to_grid``,
the methods and the old checks gave, bit for bit (refusals included).

Here rather than in tests/domain: the native pass (scripts/test) runs tests/engine, so these also
check the mypyc-compiled grid and risk modules against the reference below.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.adapters.sim import orders
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.adapters.sim.state import SymbolBook
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.grid import on_grid, to_grid
from alphadesk.domain.instruments import Instrument
from alphadesk.engine.portfolio import Portfolio
from alphadesk.engine.risk import RiskGate, round_price, round_qty

D = Decimal
ROUNDINGS = (ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_EVEN)


def old_to_grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``instruments._to_grid`` as it was before ``domain.grid``: the reference."""
    units, rest = divmod(value, step)
    up = rounding == ROUND_CEILING or (
        rounding == ROUND_HALF_EVEN and (2 * rest > step or (2 * rest == step and units % 2 == 1))
    )
    if rest and up:
        units += 1
    return (units * step).quantize(step)


def outcome(call: Callable[..., object], *args: object) -> tuple[object, str, object]:
    """What a call gives, comparable bit for bit: the type and repr of its result (a Decimal's
    repr shows every digit and the exponent) or of the exception it raises."""
    try:
        result = call(*args)
    except Exception as exc:  # the exception is the outcome compared
        return type(exc), repr(exc.args), getattr(exc, "code", None)
    return type(result), repr(result), None


def old_on_grid(value: Decimal, step: Decimal) -> bool:
    """What "is ``value`` already on the grid" meant: rounding gives it back, without raising."""
    try:
        return all(old_to_grid(value, step, r) == value for r in ROUNDINGS)
    except ArithmeticError:
        return False


STEPS = [D(s) for s in ("0.1", "0.10", "0.0001", "1", "5", "0.5", "0.25", "1E+1", "1E-8")]
ZEROS_AND_MULTIPLES = "0 -0 0E-12 0E+3 0.1 1 5 10 60000.1"
EXACT_HALVES = "0.05 0.15 0.25 0.75 1.25 0.125 2.5 7.5 12.5 0.00005 0.00015 60000.05 60000.15"
JUST_OFF = (
    "0.99999999999999999999999999999 0.09999999999999999999999999999 0.0129 60000.07"
    " 4.99999999999999999999999999999 0.00009999999999999999999999999999"
    " 0.00250000000000000000000000001"
)
EXPONENTS = "1E-30 1E-40 3E-9 1E+26 1E+27 1E+28 1E+30 5E+27"
LONG = (  # about 28 digits of units: where divmod or quantize run out of precision
    "9999999999999999999999999999 4999999999999999999999999999.5"
    " 999999999999999999999999999.95 12345678901234567890123456789"
    " 1234567890123456789012345678.9012345"
)
VALUES = [
    D(s)
    for group in (ZEROS_AND_MULTIPLES, EXACT_HALVES, JUST_OFF, EXPONENTS, LONG)
    for s in group.split()
]


@pytest.mark.parametrize("step", STEPS)
def test_to_grid_is_the_old_rule_bit_for_bit(step: Decimal) -> None:
    for value, rounding in itertools.product(VALUES, ROUNDINGS):
        got = outcome(to_grid, value, step, rounding)
        assert got == outcome(old_to_grid, value, step, rounding), (value, rounding)


def test_the_table_reaches_every_branch() -> None:
    """The table above is only worth something if it rounds up, down, to even and raises."""
    assert to_grid(D("0.05"), D("0.1"), ROUND_HALF_EVEN) == D("0.0")  # half, units even: down
    assert to_grid(D("0.15"), D("0.1"), ROUND_HALF_EVEN) == D("0.2")  # half, units odd: up
    assert to_grid(D("0.99999999999999999999999999999"), D("1"), ROUND_FLOOR) == 0
    assert to_grid(D("1E-30"), D("0.0001"), ROUND_CEILING) == D("0.0001")
    assert str(to_grid(D("7.5"), D("5"), ROUND_HALF_EVEN)) == "10"
    with pytest.raises(InvalidOperation):  # 1E+31 units: more than 28 digits
        to_grid(D("1E+30"), D("0.1"), ROUND_FLOOR)
    with pytest.raises(InvalidOperation):  # a multiple, but 29 digits at the step's exponent
        to_grid(D("4999999999999999999999999999.5"), D("0.5"), ROUND_FLOOR)


@pytest.mark.parametrize("step", STEPS)
def test_on_grid_says_whether_rounding_gives_the_value_back(step: Decimal) -> None:
    for value in VALUES:
        assert on_grid(value, step) is old_on_grid(value, step), value


def _decimal(coefficient: int, exponent: int) -> Decimal:
    return D(f"{coefficient}E{exponent}")  # exact, whatever the digits: no context rounding


values = st.builds(_decimal, st.integers(0, 10**40), st.integers(-40, 30)) | st.builds(
    _decimal, st.integers(0, 10**6), st.integers(-10, 2)
)
steps = st.sampled_from(STEPS) | st.builds(_decimal, st.integers(1, 999), st.integers(-12, 3))


@given(value=values, step=steps)
def test_to_grid_and_on_grid_match_the_old_rule_on_any_value(value: Decimal, step: Decimal) -> None:
    for rounding in ROUNDINGS:
        assert outcome(to_grid, value, step, rounding) == outcome(
            old_to_grid, value, step, rounding
        )
    assert on_grid(value, step) is old_on_grid(value, step)


@given(units=st.integers(0, 10**12), step=steps)
def test_on_grid_finds_every_multiple_and_not_one_half_a_step_off(
    units: int, step: Decimal
) -> None:
    multiple = units * step  # exact: at most 16 digits
    assert on_grid(multiple, step)
    assert not on_grid(multiple + step / 2, step)


# -- the risk gate's shortcuts: the same answer as Instrument's methods, refusals included -------

INSTRUMENTS = [
    Instrument("BTCUSDT", D("0.10"), D("0.001"), D("0.001")),
    Instrument("X", D("5"), D("0.5"), D("0.5")),
    Instrument("Y", D("0.0001"), D("1"), D("1")),
]


class Dec(Decimal):
    """A Decimal subclass: the methods' checks take it, the shortcuts must leave it to them."""


ODD: list[object] = [
    D("NaN"),
    D("sNaN"),
    D("Infinity"),
    D("-Infinity"),
    D("-0.1"),
    D("-5"),
    D("0.01"),
    D("2"),
    Dec("0.15"),
    Dec("0"),
    0.1,
    1,
    True,
    "0.1",
    None,
]


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_round_price_and_qty_are_the_instruments_methods(instrument: Instrument) -> None:
    for value in VALUES + ODD:
        for side in (None, Side.BUY, Side.SELL):
            got = outcome(round_price, instrument, value, side)
            assert got == outcome(instrument.round_price, value, side), (value, side)
        assert outcome(round_qty, instrument, value) == outcome(instrument.round_qty, value), value


def test_protection_prices_round_toward_the_entry_and_refuse_a_zero_price() -> None:
    btc = INSTRUMENTS[0]
    gate = RiskGate("bot", {"BTCUSDT": btc}, Portfolio("bot", D(1000)))
    price = D("60000.05")
    assert gate.stop_price("BTCUSDT", Side.BUY, price) == D("60000.1")  # a long's stop: up
    assert gate.stop_price("BTCUSDT", Side.SELL, price) == D("60000.0")
    assert gate.take_profit_price("BTCUSDT", Side.BUY, price) == D("60000.0")  # a long's TP: down
    assert gate.take_profit_price("BTCUSDT", Side.SELL, price) == D("60000.1")
    with pytest.raises(InvalidField, match=r"price=Decimal\('0.05'\): rounds to 0.00 on tick 0.10"):
        gate.take_profit_price("BTCUSDT", Side.BUY, D("0.05"))
    with pytest.raises(InvalidField, match="price"):
        gate.stop_price("BTCUSDT", Side.SELL, D(0))


# -- the simulator's checks that a price is on the tick grid and a qty on the step grid -----------


def old_on_tick(instrument: Instrument, field: str, price: Decimal | None) -> None:
    """``adapters.sim.orders._on_tick`` before ``domain.grid``: the reference."""
    if price is not None and price != instrument.round_price(price):
        raise OrderRejected(
            RejectCode.PARAMS_ERROR,
            field,
            price,
            f"is not a multiple of tick_size {instrument.tick_size}",
        )


def old_check_qty(instrument: Instrument, qty: Decimal) -> None:
    """``adapters.sim.orders._check_qty`` before ``domain.grid``: the reference."""
    p = RejectCode.PARAMS_ERROR
    if qty != instrument.round_qty(qty):
        raise OrderRejected(p, "qty", qty, f"is not a multiple of qty_step {instrument.qty_step}")
    if qty < instrument.min_qty:
        raise OrderRejected(p, "qty", qty, f"is below min_qty {instrument.min_qty}")
    if instrument.max_qty is not None and qty > instrument.max_qty:
        raise OrderRejected(p, "qty", qty, f"is above max_qty {instrument.max_qty}")


SIM_INSTRUMENTS = [*INSTRUMENTS, Instrument("Z", D("0.5"), D("0.25"), D("0.5"), max_qty=D("100"))]


@pytest.mark.parametrize("instrument", SIM_INSTRUMENTS)
def test_sim_on_grid_checks_are_the_old_ones(instrument: Instrument) -> None:
    book = SymbolBook(instrument, D(0))
    for value in VALUES + ODD:
        got = outcome(orders._on_tick, book, "take_profit", value)
        assert got == outcome(old_on_tick, instrument, "take_profit", value), value
        got = outcome(orders._check_qty, book, value)
        assert got == outcome(old_check_qty, instrument, value), value


@given(value=values)
def test_sim_on_grid_checks_are_the_old_ones_on_any_value(value: Decimal) -> None:
    for instrument in SIM_INSTRUMENTS:
        book = SymbolBook(instrument, D(0))
        got = outcome(orders._on_tick, book, "price", value)
        assert got == outcome(old_on_tick, instrument, "price", value)
        assert outcome(orders._check_qty, book, value) == outcome(old_check_qty, instrument, value)
