"""A position's open PnL at a mark: the one formula, shared by ``Position.unrealized_pnl``
(which checks the mark first) and the portfolio's equity read (which passes only marks that
check plainly accepts). Its own module so that the native build compiles it."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

_ZERO: Final = Decimal(0)  # compared with, rather than 0: an int operand is made a Decimal


def open_pnl(qty: Decimal, cost: Decimal, mark: Decimal) -> Decimal:
    """What closing ``qty`` (signed; ``cost`` its entry value) at ``mark`` would realise."""
    if qty > _ZERO:
        return mark * qty - cost
    if qty < _ZERO:
        return cost + mark * qty
    return _ZERO
