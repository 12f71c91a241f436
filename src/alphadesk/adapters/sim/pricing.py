"""Prices a simulated fill gets: slippage on taker fills and the conservative intrabar path."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alphadesk.adapters.sim.config import Slippage
from alphadesk.domain.enums import Side

_BPS = Decimal(10_000)


def slipped(price: Decimal, side: Side, slippage: Slippage, tick: Decimal) -> Decimal:
    """``price`` moved against the taker by the slippage, kept on the tick grid and above zero."""
    if slippage.is_zero:
        return price
    offset = tick * slippage.ticks + price * slippage.bps / _BPS
    if side is Side.BUY:
        units = ((price + offset) / tick).to_integral_value(rounding=ROUND_CEILING)
        return (units * tick).quantize(tick)
    units = ((price - offset) / tick).to_integral_value(rounding=ROUND_FLOOR)
    return max(units * tick, tick).quantize(tick)


def adverse_high_first(position_qty: Decimal, open_: float, close: float) -> bool:
    """True to walk O→H→L→C: short positions (their adverse move is up) and flat red bars."""
    if position_qty > 0:
        return False
    if position_qty < 0:
        return True
    return close < open_
