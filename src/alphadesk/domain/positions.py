"""One-way netted positions per bot and symbol, folded from fills.

The position keeps its *cost basis* (the entry notional still open) rather than only an average
price. Average price is derived from it, and each close removes a share of the cost. Any rounding
in that share stays inside the remaining cost, so when the position is flat its realized PnL is
exactly sell notional minus buy notional minus fees and funding: the identity the ledger is audited
against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from alphadesk.domain import checks
from alphadesk.domain.allocation import share
from alphadesk.domain.enums import POSITION_MOVERS, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.native_init import init_signature, is_native, native_value
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.pnl import open_pnl
from alphadesk.domain.slots import slot_maker

ZERO: Final = Decimal(0)
_BUY: Final = Side.BUY  # bound once: an enum member read costs EnumType.__getattr__'s hook
_SELL: Final = Side.SELL
_MOVERS: Final = POSITION_MOVERS


@dataclass(frozen=True, slots=True)
class Position:
    """``qty`` is signed: positive long, negative short, zero flat."""

    bot_id: str
    symbol: str
    qty: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    updated_at: datetime | None = None

    def __new__(cls, *_args: object, **_kwargs: object) -> Position:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    @property
    def side(self) -> Side | None:
        # against ZERO, not 0 (no int converted per call); the members bound once (_BUY, _SELL)
        qty = self.qty
        if qty > ZERO:
            return _BUY
        if qty < ZERO:
            return _SELL
        return None

    @property
    def size(self) -> Decimal:
        return abs(self.qty)

    @property
    def is_flat(self) -> bool:
        return self.qty == 0

    @property
    def avg_entry_price(self) -> Decimal:
        return self.cost / abs(self.qty) if self.qty else ZERO

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        checks.positive("mark_price", mark_price)
        return open_pnl(self.qty, self.cost, mark_price)

    def apply(self, fill: Fill) -> Position:
        """The position after ``fill``; funding and settlements change PnL, never size."""
        if fill.symbol != self.symbol:
            raise InvalidField("fill.symbol", fill.symbol, f"does not match position {self.symbol}")
        if fill.bot_id != self.bot_id:
            raise InvalidField("fill.bot_id", fill.bot_id, f"does not match position {self.bot_id}")
        if fill.exec_type not in _MOVERS:  # not .moves_position, without its call
            return _make(
                self.bot_id,
                self.symbol,
                self.qty,
                self.cost,
                self.realized_pnl - fill.fee,
                self.fees,
                self.funding + fill.fee,
                fill.exec_time,
            )
        qty, cost, realized = self.qty, self.cost, self.realized_pnl - fill.fee
        price, size = fill.price, fill.qty
        buy = fill.side is _BUY
        delta = size if buy else -size  # fill.signed_qty
        # (against ZERO, not 0: a Decimal compared with an int converts the int first)
        if not qty or (qty > ZERO) is buy:  # opens or adds (a fill's qty is > 0)
            qty, cost = qty + delta, cost + price * size
        else:
            held = abs(qty)
            moved = abs(delta)
            closing = min(moved, held)
            removed = share(cost, closing, held)
            proceeds = closing * price
            realized += proceeds - removed if qty > ZERO else removed - proceeds
            opened = moved - closing
            qty += delta
            if opened:  # flipped: the rest opens at this price
                cost = opened * price
            elif qty:  # partly closed (closed in full, the cost left is ZERO below)
                cost -= removed
        return _make(
            self.bot_id,
            self.symbol,
            qty,
            cost if qty else ZERO,
            realized,
            self.fees + fill.fee,
            self.funding,
            fill.exec_time,
        )


_NATIVE: Final = is_native(Position)
_slot_make: Final = None if _NATIVE else slot_maker(Position)
if _NATIVE:
    native_value(Position, "position")
else:
    init_signature(Position)


def _make(
    bot_id: str,
    symbol: str,
    qty: Decimal,
    cost: Decimal,
    realized_pnl: Decimal,
    fees: Decimal,
    funding: Decimal,
    updated_at: datetime | None,
) -> Position:
    """The same position as the constructor's, from values :meth:`Position.apply` computed:
    every field is given and there is no ``__post_init__``, so the fields are stored directly
    (native stores on the compiled build, slot writes on the pure one), for a fraction of the
    constructor's cost: this runs once per fill."""
    if _slot_make is not None:
        made: Position = _slot_make(
            bot_id, symbol, qty, cost, realized_pnl, fees, funding, updated_at
        )
        return made
    made = Position.__new__(Position)
    made.bot_id = bot_id  # type: ignore[misc]  # frozen for everyone else: this is its maker
    made.symbol = symbol  # type: ignore[misc]
    made.qty = qty  # type: ignore[misc]
    made.cost = cost  # type: ignore[misc]
    made.realized_pnl = realized_pnl  # type: ignore[misc]
    made.fees = fees  # type: ignore[misc]
    made.funding = funding  # type: ignore[misc]
    made.updated_at = updated_at  # type: ignore[misc]
    return made


def fold(bot_id: str, symbol: str, fills: list[Fill]) -> Position:
    """Rebuild a position from its fills in fold order (:mod:`alphadesk.domain.ordering`)."""
    position = Position(bot_id, symbol)
    for fill in in_fold_order(fills):
        position = position.apply(fill)
    return position
