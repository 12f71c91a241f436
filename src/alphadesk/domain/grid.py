"""Snapping a Decimal to a step's grid (a tick size, a qty step) exactly.

The arithmetic behind :meth:`Instrument.round_qty`, :meth:`Instrument.round_price` and
:meth:`Instrument.qty_for_notional`, in a module
of its own so that the native build compiles it: the per-order callers (risk gate, router, the
simulator's order checks) then make a C call, where the frozen, interpreted ``Instrument``'s
methods cost an interpreted call each. Nothing here checks its arguments: callers pass finite
Decimals >= 0 and a step > 0 (the instrument's methods check and name the field).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Final

from alphadesk.domain.enums import Side

_ONE: Final = Decimal(1)  # Decimal operands, rather than ints made a Decimal on every use
_TWO: Final = Decimal(2)
_BUY: Final = Side.BUY  # bound once: an enum member read costs EnumType.__getattr__'s hook
_SELL: Final = Side.SELL


def rounding_for(side: Side | None) -> str:
    """How a price is snapped to the tick: a buy's floored, a sell's raised (never worse for us
    than asked), with no side to the nearest tick, half to even."""
    if side is _BUY:
        return ROUND_FLOOR
    if side is _SELL:
        return ROUND_CEILING
    return ROUND_HALF_EVEN


def to_grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """Snap ``value`` (>= 0) to a multiple of ``step`` exactly, at ``step``'s exponent.

    ``rounding`` is ROUND_FLOOR, ROUND_CEILING or ROUND_HALF_EVEN. ``divmod`` is exact where
    ``value / step`` is rounded to 28 digits first, which could turn
    0.99999999999999999999999999999 into 1 and so round a quantity *up* past what was asked.
    """
    units, rest = divmod(value, step)
    if rest and (
        rounding == ROUND_CEILING
        or (
            rounding == ROUND_HALF_EVEN
            and (_TWO * rest > step or (_TWO * rest == step and units % _TWO == _ONE))
        )
    ):
        units += _ONE
    return (units * step).quantize(step)


def on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether ``to_grid(value, step, rounding)`` gives ``value`` back, for any rounding.

    That is: ``value`` is a multiple of ``step`` and ``to_grid`` would not raise. One remainder
    and a quantize, where rounding and comparing costs a divmod, a product, a quantize and a
    comparison. False does not say why: a caller refusing the value asks the checked method.
    """
    try:
        # Decimal's remainder is exact (divmod's, and raises where divmod does); quantize to
        # step's exponent raises exactly where to_grid's final quantize of the same value would
        return not value % step and value.quantize(step) == value
    except ArithmeticError:  # decimal.InvalidOperation: more digits than the context's precision
        return False


def qty_for_notional(notional: Decimal, price: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` whose value at ``price`` (> 0) does not exceed
    ``notional`` (>= 0), at ``step``'s exponent. Floor division is exact: no 28-digit rounding
    of the ratio first."""
    units = notional // (price * step)
    return (units * step).quantize(step)
