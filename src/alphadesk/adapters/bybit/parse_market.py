"""Pure functions from market wire structs (instruments, klines, tickers, trades) to typed values.

Instruments take every rule from ``lotSizeFilter``/``priceFilter`` as Decimal, including
``minNotionalValue``, because an order that breaks one of them is refused by Bybit. Bars are floats
by the domain's design, but they are read from Bybit's strings, never from ccxt's unified floats.
"""

from __future__ import annotations

from datetime import datetime

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import FeeRate, FundingRate, KlineUpdate, PublicTrade, Ticker
from alphadesk.adapters.bybit.wire import MalformedPayload, dec, float_of, opt_dec, utc_ms
from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument

# Bybit's kline interval codes, in minutes ("M" is nominal: months differ in length).
INTERVALS: dict[str, int] = {
    **{str(m): m for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": 1440,
    "W": 10080,
    "M": 43200,
}
_CODES = {minutes: code for code, minutes in INTERVALS.items()}


def interval_code(minutes: int) -> str:
    """Bybit's interval for a bar length in minutes (5 -> "5", 1440 -> "D")."""
    code = _CODES.get(minutes)
    if code is None:
        raise InvalidField(
            "interval_min", minutes, f"Bybit has no such interval ({sorted(_CODES)})"
        )
    return code


def interval_minutes(code: str) -> int:
    minutes = INTERVALS.get(code)
    if minutes is None:
        raise MalformedPayload("kline.interval", code, f"must be one of {', '.join(INTERVALS)}")
    return minutes


def instrument_from_info(i: w.InstrumentInfo) -> Instrument:
    lot = i.lotSizeFilter
    step = lot.qtyStep or lot.basePrecision  # spot instruments call the step basePrecision
    try:
        return Instrument(
            symbol=i.symbol,
            tick_size=dec("instrument.priceFilter.tickSize", i.priceFilter.tickSize),
            qty_step=dec("instrument.lotSizeFilter.qtyStep", step),
            min_qty=dec("instrument.lotSizeFilter.minOrderQty", lot.minOrderQty),
            min_notional=opt_dec("instrument.lotSizeFilter.minNotionalValue", lot.minNotionalValue)
            or dec("instrument.lotSizeFilter.minOrderAmt", lot.minOrderAmt or "0"),
            max_qty=opt_dec("instrument.lotSizeFilter.maxOrderQty", lot.maxOrderQty),
            base_coin=i.baseCoin,
            quote_coin=i.quoteCoin,
            max_leverage=opt_dec(
                "instrument.leverageFilter.maxLeverage",
                i.leverageFilter.maxLeverage if i.leverageFilter is not None else "",
            ),
            funding_interval_min=i.fundingInterval or None,  # minutes; spot and options: 0
        )
    except MalformedPayload:
        raise
    except InvalidField as exc:  # a rule that parses but makes no sense (tickSize "0")
        raise MalformedPayload(f"{i.symbol}.{exc.field}", exc.value, exc.reason) from None


def bar_from_row(row: list[str], symbol: str, interval_min: int) -> Bar:
    """A REST kline row: ``[startTime, open, high, low, close, volume, turnover]``."""
    if len(row) < 6:
        raise MalformedPayload("kline.row", row, "needs at least 6 columns")
    start = row[0]
    if not start.isdigit():
        raise MalformedPayload("kline.startTime", start, "must be epoch milliseconds")
    return Bar(
        symbol=symbol,
        interval_min=interval_min,
        open_time_ms=int(start),
        open=float_of("kline.open", row[1]),
        high=float_of("kline.high", row[2]),
        low=float_of("kline.low", row[3]),
        close=float_of("kline.close", row[4]),
        volume=float_of("kline.volume", row[5]),
        turnover=float_of("kline.turnover", row[6]) if len(row) > 6 else 0.0,
    )


def symbol_of_topic(topic: str) -> str:
    """``kline.5.BTCUSDT`` / ``tickers.BTCUSDT`` / ``publicTrade.BTCUSDT`` -> ``BTCUSDT``."""
    return topic.rsplit(".", 1)[-1]


def kline_update(k: w.WsKline, symbol: str) -> KlineUpdate:
    bar = Bar(
        symbol=symbol,
        interval_min=interval_minutes(k.interval),
        open_time_ms=k.start,
        open=float_of("kline.open", k.open),
        high=float_of("kline.high", k.high),
        low=float_of("kline.low", k.low),
        close=float_of("kline.close", k.close),
        volume=float_of("kline.volume", k.volume),
        turnover=float_of("kline.turnover", k.turnover) if k.turnover else 0.0,
    )
    return KlineUpdate(bar=bar, confirmed=k.confirm)


def merge_ticker(previous: w.TickerInfo | None, delta: w.TickerInfo) -> w.TickerInfo:
    """Apply a ``tickers`` delta: Bybit sends only changed fields; blanks keep the old value."""
    if previous is None or previous.symbol != delta.symbol:
        return delta
    fields = {
        name: getattr(delta, name) or getattr(previous, name)
        for name in w.TickerInfo.__struct_fields__
    }
    return w.TickerInfo(**fields)


def ticker_from_info(t: w.TickerInfo, *, at: datetime) -> Ticker:
    nft = t.nextFundingTime
    return Ticker(
        symbol=t.symbol,
        last_price=opt_dec("ticker.lastPrice", t.lastPrice),
        mark_price=opt_dec("ticker.markPrice", t.markPrice),
        index_price=opt_dec("ticker.indexPrice", t.indexPrice),
        bid_price=opt_dec("ticker.bid1Price", t.bid1Price),
        ask_price=opt_dec("ticker.ask1Price", t.ask1Price),
        volume_24h=opt_dec("ticker.volume24h", t.volume24h),
        turnover_24h=opt_dec("ticker.turnover24h", t.turnover24h),
        funding_rate=opt_dec("ticker.fundingRate", t.fundingRate),
        next_funding_time=utc_ms("ticker.nextFundingTime", nft) if nft and nft != "0" else None,
        open_interest=opt_dec("ticker.openInterest", t.openInterest),
        at=at,
    )


def funding_rate_from_info(f: w.FundingRateInfo) -> FundingRate:
    return FundingRate(
        symbol=f.symbol,
        rate=dec("funding.fundingRate", f.fundingRate),
        at=utc_ms("funding.fundingRateTimestamp", f.fundingRateTimestamp),
    )


def fee_rate_from_info(f: w.FeeRateInfo) -> FeeRate:
    return FeeRate(
        symbol=f.symbol,
        maker=dec("feeRate.makerFeeRate", f.makerFeeRate),
        taker=dec("feeRate.takerFeeRate", f.takerFeeRate),
    )


def _side(field: str, value: str) -> Side:
    try:
        return Side.parse(value, field)
    except InvalidField as exc:
        raise MalformedPayload(field, value, exc.reason) from None


def public_trade_from_ws(t: w.WsPublicTrade) -> PublicTrade:
    return PublicTrade(
        symbol=t.s,
        trade_id=t.i,
        side=_side("publicTrade.S", t.S),
        price=dec("publicTrade.p", t.p),
        qty=dec("publicTrade.v", t.v),
        at=utc_ms("publicTrade.T", t.T),
        is_block_trade=t.BT,
    )


def public_trade_from_rest(t: w.RecentTrade) -> PublicTrade:
    return PublicTrade(
        symbol=t.symbol,
        trade_id=t.execId,
        side=_side("trade.side", t.side),
        price=dec("trade.price", t.price),
        qty=dec("trade.size", t.size),
        at=utc_ms("trade.time", t.time),
        is_block_trade=t.isBlockTrade,
    )
