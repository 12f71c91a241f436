"""Enumerations whose values are Bybit's own spellings.

Keeping Bybit's strings as the values means the wire, the database and the seed's SQL
(``side = 'Buy'``) all agree without a mapping table.
"""

from __future__ import annotations

from enum import StrEnum

from alphadesk.domain.errors import InvalidField


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction a fill moves a one-way position."""
        return 1 if self is _BUY else -1

    @property
    def opposite(self) -> Side:
        # the members bound once as module globals: a ``Side.X`` read costs an enum class lookup
        return _SELL if self is _BUY else _BUY

    @classmethod
    def parse(cls, value: object, field: str = "side") -> Side:
        if isinstance(value, Side):
            return value
        # a dict look-up: iterating an Enum class walks its members through Python-level code,
        # and every row of every venue message is parsed here
        member = _SIDES.get(value) if isinstance(value, str) else None
        if member is None:
            raise InvalidField(field, value, "must be 'Buy' or 'Sell'")
        return member


class ExecType(StrEnum):
    """Bybit ``execType`` on linear contracts.

    Funding and Settle only move cash. Every other kind changes the position's size: a block
    trade and a position move (between sub-accounts) like a trade, and a delivery closes the
    position at settlement, so it is recorded as a closing fill rather than as cash.
    Bybit also sends ``UNKNOWN``; it is deliberately not a member, so a row nobody can interpret
    is refused (and skipped by the adapter) instead of being guessed into the ledger.
    """

    TRADE = "Trade"
    FUNDING = "Funding"
    ADL_TRADE = "AdlTrade"
    BUST_TRADE = "BustTrade"
    SETTLE = "Settle"
    BLOCK_TRADE = "BlockTrade"
    MOVE_POSITION = "MovePosition"
    DELIVERY = "Delivery"

    @property
    def moves_position(self) -> bool:
        return self is not ExecType.FUNDING and self is not ExecType.SETTLE

    @property
    def is_forced(self) -> bool:
        """Auto-deleveraging and liquidation fills: recorded, but flagged for the owner."""
        return self in (ExecType.ADL_TRADE, ExecType.BUST_TRADE)

    @classmethod
    def parse(cls, value: object, field: str = "exec_type") -> ExecType:
        if isinstance(value, ExecType):
            return value
        member = _EXEC_TYPES.get(value) if isinstance(value, str) else None
        if member is None:
            allowed = ", ".join(m.value for m in cls)
            raise InvalidField(field, value, f"must be one of {allowed}")
        return member


_SIDES: dict[str, Side] = {m.value: m for m in Side}
_BUY = Side.BUY
_SELL = Side.SELL
_EXEC_TYPES: dict[str, ExecType] = {m.value: m for m in ExecType}


POSITION_MOVERS = frozenset(kind for kind in ExecType if kind.moves_position)
"""The exec types whose ``moves_position`` is true: a set lookup where a fold runs per fill."""


class OrderType(StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class OrderStatus(StrEnum):
    """Bybit V5 order statuses, including the conditional-order ones."""

    CREATED = "Created"
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    PARTIALLY_FILLED_CANCELED = "PartiallyFilledCanceled"
    REJECTED = "Rejected"
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    DEACTIVATED = "Deactivated"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.PARTIALLY_FILLED_CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.DEACTIVATED,
    }
)
