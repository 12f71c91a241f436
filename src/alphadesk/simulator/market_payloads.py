"""Bybit V5 market-data payloads built from the replay, field for field as Bybit sends them.

Field names and order follow the recorded payloads in ``tests/fixtures/bybit_payloads``
(``http_get_instruments_linear``, ``http_get_klines_linear``, ``ws_kline``, ``ws_ticker_linear``,
``ws_public_trade``, ``http_get_funding_history``); numbers are strings, as on the wire. Clients
infer the market type from which fields exist (ccxt parses a ticker without ``openInterestValue``
as spot), so nothing here is trimmed to a minimum.
"""

from __future__ import annotations

import math
import uuid
from decimal import Decimal
from typing import Any

from alphadesk.domain.instruments import Instrument
from alphadesk.simulator.candles import CandleSeries
from alphadesk.simulator.replay import Kline, SymbolTape, Tick

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def s(value: Decimal | int) -> str:
    """Bybit's string number: plain digits, no exponent, no trailing zeros beyond the value's."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def qty_step_for(price: Decimal) -> Decimal:
    """A lot step that makes one step worth roughly 5-50 USDT, capped at 1 (Bybit's own
    steps are of that size: 0.001 BTC, 0.01 ETH, 0.1 SOL, 1 ADA)."""
    exponent = min(0, round(math.log10(50 / float(price))))
    return Decimal(1).scaleb(exponent)


def instrument_for(series: CandleSeries) -> Instrument:
    first = series.candles[0].open
    step = qty_step_for(first)
    return Instrument(
        symbol=series.symbol,
        tick_size=series.tick_size,
        qty_step=step,
        min_qty=step,
        min_notional=Decimal(5),
        max_qty=step * 1_000_000,
        base_coin=series.symbol.removesuffix("USDT"),
        quote_coin="USDT",
    )


def instrument_payload(
    series: CandleSeries, instrument: Instrument, funding_interval_ms: int
) -> dict[str, Any]:
    """One instruments-info item; ``fundingInterval`` (minutes) is the one the engine settles on."""
    tick = instrument.tick_size
    scale = max(0, -int(tick.as_tuple().exponent))
    max_qty = instrument.max_qty or instrument.qty_step * 1_000_000
    return {
        "symbol": instrument.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": instrument.base_coin,
        "quoteCoin": "USDT",
        "launchTime": str(series.candles[0].start_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(scale),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": s(instrument.max_leverage or Decimal(100)),
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": s(tick),
            "maxPrice": s(tick * 100_000_000),
            "tickSize": s(tick),
        },
        "lotSizeFilter": {
            "maxOrderQty": s(max_qty),
            "minOrderQty": s(instrument.min_qty),
            "qtyStep": s(instrument.qty_step),
            "postOnlyMaxOrderQty": s(max_qty),
            "maxMktOrderQty": s(max_qty / 2),
            "minNotionalValue": s(instrument.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": funding_interval_ms // 60_000,
        "settleCoin": "USDT",
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "displayName": "",
    }


def kline_row(k: Kline) -> list[str]:
    return [str(k.start_ms), s(k.open), s(k.high), s(k.low), s(k.close), s(k.volume),
            s(k.turnover)]


def interval_label(minutes: int) -> str:
    return {1440: "D", 10080: "W"}.get(minutes, str(minutes))


def parse_interval(label: str) -> int | None:
    table = {"D": 1440, "W": 10080}
    if label in table:
        return table[label]
    if label.isdigit() and int(label) in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720):
        return int(label)
    return None


def ws_kline(symbol: str, k: Kline, now_ms: int) -> dict[str, Any]:
    label = interval_label(k.interval_min)
    return {
        "topic": f"kline.{label}.{symbol}",
        "data": [{
            "start": k.start_ms,
            "end": k.end_ms,
            "interval": label,
            "open": s(k.open),
            "close": s(k.close),
            "high": s(k.high),
            "low": s(k.low),
            "volume": s(k.volume),
            "turnover": s(k.turnover),
            "confirm": k.confirmed,
            "timestamp": now_ms,
        }],
        "ts": now_ms,
        "type": "snapshot",
    }


def ticker(tape: SymbolTape, instrument: Instrument, now_ms: int, funding_rate: Decimal,
           next_funding_ms: int, funding_interval_ms: int) -> dict[str, Any]:
    """Ticker fields of both REST ``/v5/market/tickers`` and the ``tickers`` topic (linear);
    the funding fields are the engine's: the next settlement, its rate and the interval."""
    last = tape.price
    tick = instrument.tick_size
    day = tape.klines(tape.series.interval_min, now_ms - DAY_MS, None, 100_000)
    hour = tape.klines(tape.series.interval_min, now_ms - HOUR_MS, None, 100_000)
    prev24 = day[-1].open if day else last
    prev1h = hour[-1].open if hour else last
    volume = sum((k.volume for k in day), Decimal(0))
    turnover = sum((k.turnover for k in day), Decimal(0))
    open_interest = (volume / 10).quantize(instrument.qty_step) if volume else Decimal(0)
    return {
        "symbol": tape.symbol,
        "tickDirection": "PlusTick",
        "price24hPcnt": s(((last - prev24) / prev24).quantize(Decimal("0.000001"))),
        "lastPrice": s(last),
        "prevPrice24h": s(prev24),
        "highPrice24h": s(max((k.high for k in day), default=last)),
        "lowPrice24h": s(min((k.low for k in day), default=last)),
        "prevPrice1h": s(prev1h),
        "markPrice": s(last),
        "indexPrice": s(last),
        "openInterest": s(open_interest),
        "openInterestValue": s((open_interest * last).quantize(Decimal("0.01"))),
        "turnover24h": s(turnover),
        "volume24h": s(volume),
        "nextFundingTime": str(next_funding_ms),
        "fundingRate": s(funding_rate),
        "bid1Price": s(last - tick),
        "bid1Size": s(instrument.qty_step * 100),
        "ask1Price": s(last),
        "ask1Size": s(instrument.qty_step * 100),
        "fundingIntervalHour": s(Decimal(funding_interval_ms) / HOUR_MS),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "basis": "",
    }


def ws_ticker(payload: dict[str, Any], now_ms: int, seq: int) -> dict[str, Any]:
    return {
        "topic": f"tickers.{payload['symbol']}",
        "type": "snapshot",
        "data": payload,
        "cs": seq,
        "ts": now_ms,
    }


def ws_public_trade(tick: Tick, side: str) -> dict[str, Any]:
    return {
        "topic": f"publicTrade.{tick.symbol}",
        "type": "snapshot",
        "ts": tick.time_ms,
        "data": [{
            "T": tick.time_ms,
            "s": tick.symbol,
            "S": side,
            "v": s(tick.qty),
            "p": s(tick.price),
            "L": "PlusTick" if side == "Buy" else "MinusTick",
            "i": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{tick.symbol}-{tick.time_ms}")),
            "BT": False,
        }],
    }


def funding_rows(symbol: str, settlements: list[tuple[int, Decimal]],
                 limit: int) -> list[dict[str, str]]:
    """``(time, rate)`` settlements as Bybit pages them: newest first, at most ``limit``."""
    newest = sorted(settlements, reverse=True)[:limit]
    return [
        {"symbol": symbol, "fundingRate": s(rate), "fundingRateTimestamp": str(t)}
        for t, rate in newest
    ]


def recorded_funding(symbol: str, rates: dict[int, Decimal], start_ms: int, end_ms: int,
                     limit: int) -> list[dict[str, str]]:
    """The recorded settlements in [start, end], newest first, as Bybit pages them."""
    return funding_rows(
        symbol, [(t, r) for t, r in rates.items() if start_ms <= t <= end_ms], limit
    )
