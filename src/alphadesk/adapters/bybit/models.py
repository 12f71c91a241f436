"""Typed results the adapter returns for which the domain has no type (yet).

The domain owns fills, orders, positions, wallets, instruments and bars; these are the rest of what
a caller can ask Bybit for (tickers, funding, closed PnL, fee rates, the key's permissions) and the
one live-bar wrapper that says whether a kline is final. All money is Decimal, all times UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side


@dataclass(frozen=True, slots=True)
class OrderAck:
    """Bybit accepted an order request (it may still be rejected or filled later)."""

    order_id: str
    order_link_id: str


@dataclass(frozen=True, slots=True)
class KlineUpdate:
    """A kline push: ``confirmed`` is Bybit's ``confirm`` (the bar is closed and final)."""

    bar: Bar
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    last_price: Decimal | None
    mark_price: Decimal | None
    index_price: Decimal | None
    bid_price: Decimal | None
    ask_price: Decimal | None
    volume_24h: Decimal | None
    turnover_24h: Decimal | None
    funding_rate: Decimal | None
    next_funding_time: datetime | None
    open_interest: Decimal | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PublicTrade:
    symbol: str
    trade_id: str
    side: Side
    price: Decimal
    qty: Decimal
    at: datetime
    is_block_trade: bool = False


@dataclass(frozen=True, slots=True)
class FundingRate:
    symbol: str
    rate: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class FeeRate:
    symbol: str
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class ClosedPnl:
    """One closing order's realised PnL as Bybit computed it (``side`` is the closing side)."""

    symbol: str
    order_id: str
    side: Side
    qty: Decimal
    closed_size: Decimal
    avg_entry_price: Decimal
    avg_exit_price: Decimal
    closed_pnl: Decimal
    created_at: datetime
    updated_at: datetime
    order_type: str = ""
    exec_type: str = ""
    leverage: Decimal | None = None
    fill_count: int = 0
    open_fee: Decimal | None = None
    close_fee: Decimal | None = None


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    """What ``/v5/user/query-api`` says this key may do. Holds no secret."""

    api_key: str
    read_only: bool
    permissions: dict[str, tuple[str, ...]]
    ips: tuple[str, ...]
    is_master: bool
    unified: bool
    expires_at: str = ""

    def allows(self, group: str, permission: str) -> bool:
        return permission in self.permissions.get(group, ())
