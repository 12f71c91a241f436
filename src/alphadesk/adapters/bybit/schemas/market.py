"""Bybit V5 wire types: market data.

See :mod:`alphadesk.adapters.bybit.schemas` for the conventions.
"""
# ruff: noqa: N815

from msgspec import Struct

# --- market ------------------------------------------------------------------------------------


class ServerTime(Struct):
    timeSecond: str = ""
    timeNano: str = ""


class LeverageFilter(Struct):
    minLeverage: str = ""
    maxLeverage: str = ""
    leverageStep: str = ""


class PriceFilter(Struct):
    tickSize: str
    minPrice: str = ""
    maxPrice: str = ""


class LotSizeFilter(Struct):
    minOrderQty: str
    maxOrderQty: str = ""
    qtyStep: str = ""
    postOnlyMaxOrderQty: str = ""
    maxMktOrderQty: str = ""
    minNotionalValue: str = ""
    basePrecision: str = ""  # spot
    quotePrecision: str = ""
    minOrderAmt: str = ""
    maxOrderAmt: str = ""


class InstrumentInfo(Struct):
    symbol: str
    priceFilter: PriceFilter
    lotSizeFilter: LotSizeFilter
    status: str = ""
    contractType: str = ""
    baseCoin: str = ""
    quoteCoin: str = ""
    settleCoin: str = ""
    priceScale: str = ""
    launchTime: str = ""
    deliveryTime: str = ""
    leverageFilter: LeverageFilter | None = None
    fundingInterval: int = 0
    optionsType: str = ""
    symbolType: str = ""


class InstrumentsResult(Struct):
    list: list[InstrumentInfo]
    nextPageCursor: str | None = None
    category: str = ""


class KlineResult(Struct):
    list: list[list[str]]
    symbol: str = ""
    category: str = ""


class TickerInfo(Struct):
    """REST ticker and WS ``tickers`` data; a WS delta carries only the fields that changed."""

    symbol: str
    lastPrice: str = ""
    markPrice: str = ""
    indexPrice: str = ""
    bid1Price: str = ""
    bid1Size: str = ""
    ask1Price: str = ""
    ask1Size: str = ""
    volume24h: str = ""
    turnover24h: str = ""
    openInterest: str = ""
    openInterestValue: str = ""
    fundingRate: str = ""
    nextFundingTime: str = ""
    price24hPcnt: str = ""
    highPrice24h: str = ""
    lowPrice24h: str = ""
    prevPrice24h: str = ""


class TickersResult(Struct):
    list: list[TickerInfo]
    category: str = ""


class FundingRateInfo(Struct):
    symbol: str
    fundingRate: str
    fundingRateTimestamp: str


class FundingHistoryResult(Struct):
    list: list[FundingRateInfo]
    category: str = ""


class RecentTrade(Struct):
    execId: str
    symbol: str
    price: str
    size: str
    side: str
    time: str
    isBlockTrade: bool = False


class RecentTradesResult(Struct):
    list: list[RecentTrade]
    category: str = ""


class OrderbookResult(Struct):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    ts: int = 0
    u: int = 0
    seq: int = 0
    cts: int = 0
