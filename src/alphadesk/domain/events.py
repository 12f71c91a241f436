"""Things that happened, as venues report them (past tense).

Every venue (Bybit, paper, backtest) turns its own messages into these, so the engine, the
ledger and the state store never see a payload dict. A fill report is simply a :class:`Fill`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.orders import Order


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    venue: str
    account: str
    order: Order


@dataclass(frozen=True, slots=True)
class PositionReported:
    """The venue's own view of a position, used to check the ledger's (never to replace it)."""

    venue: str
    account: str
    symbol: str
    side: Side | None
    size: Decimal
    avg_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    updated_at: datetime
    take_profit: Decimal = Decimal(0)
    stop_loss: Decimal = Decimal(0)
    trailing_stop: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        checks.non_negative("position.size", self.size)
        checks.non_negative("position.avg_price", self.avg_price)
        checks.utc("position.updated_at", self.updated_at)

    @property
    def signed_size(self) -> Decimal:
        return -self.size if self.side is Side.SELL else self.size


@dataclass(frozen=True, slots=True)
class WalletReported:
    venue: str
    account: str
    equity: Decimal
    wallet_balance: Decimal
    available_balance: Decimal
    unrealized_pnl: Decimal
    at: datetime

    def __post_init__(self) -> None:
        checks.decimal("wallet.equity", self.equity)
        checks.utc("wallet.at", self.at)
