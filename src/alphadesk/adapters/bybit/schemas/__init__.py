"""Bybit V5 wire types: one ``msgspec.Struct`` per payload shape, named field for field as Bybit.

Numbers stay strings here, exactly as Bybit sends them; :mod:`parse` turns them into Decimal. Every
field has a default unless the desk cannot do without it, because Bybit adds, drops and blanks
fields between endpoints (REST ``avgPrice`` is ``null``, WS sends ``""``) and across versions;
unknown fields are ignored. The key's ``secret`` field of query-api is deliberately not mirrored.

No ``from __future__ import annotations`` here: several Bybit results have a field named ``list``,
and msgspec would then resolve ``list[...]`` against the class (where ``list`` is the field).
"""

from alphadesk.adapters.bybit.schemas.account import (
    AccountInfo,
    ApiKeyInfo,
    CoinBalance,
    FeeRateInfo,
    FeeRateResult,
    Response,
    SubApiKeysResult,
    SubMember,
    SubMembersResult,
    WalletInfo,
    WalletResult,
)
from alphadesk.adapters.bybit.schemas.market import (
    FundingHistoryResult,
    FundingRateInfo,
    InstrumentInfo,
    InstrumentsResult,
    KlineResult,
    LeverageFilter,
    LotSizeFilter,
    OrderbookResult,
    PriceFilter,
    RecentTrade,
    RecentTradesResult,
    ServerTime,
    TickerInfo,
    TickersResult,
)
from alphadesk.adapters.bybit.schemas.trade import (
    CancelAllResult,
    ClosedPnlInfo,
    ClosedPnlResult,
    ExecutionInfo,
    ExecutionsResult,
    FastExecutionInfo,
    OrderAckInfo,
    OrderInfo,
    OrdersResult,
    PositionInfo,
    PositionsResult,
    RawExecutionsResult,
)
from alphadesk.adapters.bybit.schemas.ws import (
    WsKline,
    WsMessage,
    WsOrderbook,
    WsPublicTrade,
)

__all__ = [
    "AccountInfo",
    "ApiKeyInfo",
    "CancelAllResult",
    "ClosedPnlInfo",
    "ClosedPnlResult",
    "CoinBalance",
    "ExecutionInfo",
    "ExecutionsResult",
    "FastExecutionInfo",
    "FeeRateInfo",
    "FeeRateResult",
    "FundingHistoryResult",
    "FundingRateInfo",
    "InstrumentInfo",
    "InstrumentsResult",
    "KlineResult",
    "LeverageFilter",
    "LotSizeFilter",
    "OrderAckInfo",
    "OrderInfo",
    "OrderbookResult",
    "OrdersResult",
    "PositionInfo",
    "PositionsResult",
    "PriceFilter",
    "RawExecutionsResult",
    "RecentTrade",
    "RecentTradesResult",
    "Response",
    "ServerTime",
    "SubApiKeysResult",
    "SubMember",
    "SubMembersResult",
    "TickerInfo",
    "TickersResult",
    "WalletInfo",
    "WalletResult",
    "WsKline",
    "WsMessage",
    "WsOrderbook",
    "WsPublicTrade",
]
