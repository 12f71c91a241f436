"""Instruments and the rounding rules that every price and quantity obeys before it leaves us.

Bybit rejects a quantity that is not a multiple of ``qtyStep`` or below ``minOrderQty`` and a price
off the ``tickSize`` grid. Quantities are always rounded *down*: rounding up would trade more than
the strategy or the risk gate asked for. Prices are rounded toward the side that cannot make the
order worse for us than requested (a buy limit down, a sell limit up) unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.grid import qty_for_notional as grid_qty_for_notional
from alphadesk.domain.grid import rounding_for, to_grid

MINUTES_PER_DAY = 1440


@dataclass(frozen=True, slots=True)
class Instrument:
    """A USDT linear perpetual's trading rules, as Bybit's instruments-info reports them."""

    symbol: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    min_notional: Decimal = Decimal(0)
    max_qty: Decimal | None = None
    base_coin: str = ""
    quote_coin: str = "USDT"
    max_leverage: Decimal | None = None
    funding_interval_min: int | None = None
    """Minutes between funding settlements (instruments-info ``fundingInterval``); None: unknown."""

    def __post_init__(self) -> None:
        checks.text("instrument.symbol", self.symbol)
        checks.positive("instrument.tick_size", self.tick_size)
        checks.positive("instrument.qty_step", self.qty_step)
        checks.positive("instrument.min_qty", self.min_qty)
        checks.non_negative("instrument.min_notional", self.min_notional)
        if self.max_qty is not None:
            checks.positive("instrument.max_qty", self.max_qty)
        if self.max_leverage is not None:
            checks.positive("instrument.max_leverage", self.max_leverage)
        minutes = self.funding_interval_min
        if minutes is not None and (
            type(minutes) is not int or minutes <= 0 or MINUTES_PER_DAY % minutes
        ):
            raise InvalidField(
                "instrument.funding_interval_min", minutes, "must be minutes dividing one day"
            )

    def round_qty(self, qty: Decimal) -> Decimal:
        """Floor to the qty step: never more than was asked."""
        checks.non_negative("qty", qty)
        return to_grid(qty, self.qty_step, ROUND_FLOOR)

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        """Snap to the tick grid; with a side, round to the price that is no worse for us."""
        checks.positive("price", price)
        rounded = to_grid(price, self.tick_size, rounding_for(side))
        if rounded <= 0:
            raise InvalidField("price", price, f"rounds to {rounded} on tick {self.tick_size}")
        return rounded

    def qty_for_notional(self, notional: Decimal, price: Decimal) -> Decimal:
        """The largest tradable quantity whose value does not exceed ``notional`` at ``price``."""
        if not (checks.plain_non_negative(notional) and checks.plain_positive(price)):
            checks.non_negative("notional", notional)  # the checks name the field
            checks.positive("price", price)
        return grid_qty_for_notional(notional, price, self.qty_step)

    def check_order(self, qty: Decimal, price: Decimal) -> None:
        """Refuse an order the exchange would refuse, with the rule it breaks."""
        checks.positive("qty", qty)
        checks.positive("price", price)
        if qty != self.round_qty(qty):
            raise InvalidField("qty", qty, f"is not a multiple of qty_step {self.qty_step}")
        if qty < self.min_qty:
            raise InvalidField("qty", qty, f"is below min_qty {self.min_qty} of {self.symbol}")
        if self.max_qty is not None and qty > self.max_qty:
            raise InvalidField("qty", qty, f"is above max_qty {self.max_qty} of {self.symbol}")
        if qty * price < self.min_notional:
            raise InvalidField(
                "qty", qty, f"notional {qty * price} is below min_notional {self.min_notional}"
            )
