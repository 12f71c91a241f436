"""A fill: one execution reported by a venue, the unit the ledger records exactly once.

Identity is ``(venue, account, exec_id)``: Bybit's ``execId`` is unique per account, and the same
execution may reach us over WebSocket and again over REST history. Everything else is payload.
Validation happens at construction so that no invalid fill can exist in memory, let alone in the
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from alphadesk.domain import checks
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.slots import slot_builder, slot_replacer

UNKNOWN_BOT = "unknown"
ZERO = Decimal(0)


class FillKey(NamedTuple):
    """A tuple, not a frozen dataclass: it is made for every fill on every write and looked up
    in sets and dicts, and a tuple is built and hashed in C."""

    venue: str
    account: str
    exec_id: str


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fee`` is what we paid (negative for a maker rebate), in ``fee_currency``.

    For ``exec_type=Funding`` Bybit reports the mark price as ``price``, the position size as
    ``qty`` and the funding amount as ``fee``: it is PnL but never a position change.
    """

    venue: str
    account: str
    exec_id: str
    bot_id: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    exec_time: datetime
    exec_type: ExecType = ExecType.TRADE
    fee_currency: str = "USDT"
    is_maker: bool = False
    order_id: str = ""
    order_link_id: str = ""
    order_type: str = ""
    closed_size: Decimal = Decimal(0)
    close_reason: str = ""

    def __post_init__(self) -> None:
        checks.text("fill.venue", self.venue, max_len=32)
        checks.text("fill.account", self.account, max_len=64)
        checks.text("fill.exec_id", self.exec_id, max_len=100)
        checks.text("fill.bot_id", self.bot_id, max_len=50)
        checks.text("fill.symbol", self.symbol, max_len=20)
        if not isinstance(self.side, Side):
            object.__setattr__(self, "side", Side.parse(self.side, "fill.side"))
        if not isinstance(self.exec_type, ExecType):
            object.__setattr__(self, "exec_type", ExecType.parse(self.exec_type, "fill.exec_type"))
        checks.positive("fill.price", self.price)
        checks.positive("fill.qty", self.qty)
        checks.decimal("fill.fee", self.fee)
        checks.non_negative("fill.closed_size", self.closed_size)
        checks.utc("fill.exec_time", self.exec_time)
        checks.text("fill.fee_currency", self.fee_currency, max_len=16, allow_empty=True)
        if not isinstance(self.is_maker, bool):
            raise InvalidField("fill.is_maker", self.is_maker, "must be bool")
        checks.text("fill.order_id", self.order_id, max_len=100, allow_empty=True)
        checks.text("fill.order_link_id", self.order_link_id, max_len=200, allow_empty=True)
        checks.text("fill.order_type", self.order_type, max_len=20, allow_empty=True)
        checks.text("fill.close_reason", self.close_reason, max_len=50, allow_empty=True)

    @classmethod
    def trusted(
        cls,
        *,
        venue: str,
        account: str,
        exec_id: str,
        bot_id: str,
        symbol: str,
        side: Side,
        price: Decimal,
        qty: Decimal,
        fee: Decimal,
        exec_time: datetime,
        exec_type: ExecType = ExecType.TRADE,
        is_maker: bool = False,
        order_id: str = "",
        order_link_id: str = "",
        order_type: str = "",
        closed_size: Decimal = ZERO,
        close_reason: str = "",
    ) -> Fill:
        """The same fill, for a venue that made it from its own checked state (the simulated
        matching engine): venue, account and ids are its own and not re-checked; the bot, the
        symbol, the numbers and the time are, cheaply. Anything doubtful goes through the checking
        constructor, which raises as usual."""
        if not (
            type(bot_id) is str
            and 0 < len(bot_id) <= 50
            and type(symbol) is str
            and 0 < len(symbol) <= 20
            and type(side) is Side
            and type(exec_type) is ExecType
            and type(price) is Decimal
            and type(qty) is Decimal
            and type(fee) is Decimal
            and type(closed_size) is Decimal
            and price.is_finite()
            and qty.is_finite()
            and fee.is_finite()
            and closed_size.is_finite()
            and price > ZERO
            and qty > ZERO
            and closed_size >= ZERO
            and type(exec_time) is datetime
            and exec_time.tzinfo is UTC
            and type(is_maker) is bool
            and len(close_reason) <= 50
        ):
            return cls(
                venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
                exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
                close_reason,
            )  # fmt: skip
        return _assemble(
            (
                venue, account, exec_id, bot_id, symbol, side, price, qty, fee, exec_time,
                exec_type, "USDT", is_maker, order_id, order_link_id, order_type, closed_size,
                close_reason,
            )
        )  # fmt: skip

    def relabelled(self, close_reason: str) -> Fill:
        """This fill with another ``close_reason`` (the router's label for why it traded). Only
        the new label is checked: every other field was, when this fill was made."""
        checks.text("fill.close_reason", close_reason, max_len=50, allow_empty=True)
        return _relabel(self, close_reason)

    @property
    def key(self) -> FillKey:
        return FillKey(self.venue, self.account, self.exec_id)

    @property
    def notional(self) -> Decimal:
        return self.price * self.qty

    @property
    def signed_qty(self) -> Decimal:
        """Quantity with the fill's direction: what it adds to a one-way position."""
        return self.qty if self.side is Side.BUY else -self.qty

    @property
    def moves_position(self) -> bool:
        return self.exec_type.moves_position


_assemble = slot_builder(Fill)
_relabel = slot_replacer(Fill, "close_reason")


def fill_from_mapping(data: dict[str, Any]) -> Fill:
    """Build a fill from a mapping (a spool line, a test builder); validation still applies."""
    try:
        return Fill(**data)
    except TypeError as exc:
        raise InvalidField("fill", sorted(data), str(exc)) from None
