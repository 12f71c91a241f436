"""Public market endpoints: server time, instruments, klines, tickers, funding history."""

from __future__ import annotations

from typing import Any

from alphadesk.simulator import market_payloads as mp
from alphadesk.simulator.errors import ApiError, RetCode
from alphadesk.simulator.http_common import Call, Handler, wall_ms


async def server_time(call: Call) -> dict[str, str]:
    now = wall_ms()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


async def instruments_info(call: Call) -> dict[str, Any]:
    call.linear()
    symbol = call.symbol(required=False)
    ex = call.exchange
    symbols = [symbol] if symbol else sorted(ex.instruments)
    rows = [
        mp.instrument_payload(ex.series[s], ex.instruments[s], ex.engine.funding_interval_ms(s))
        for s in symbols
    ]
    return {"category": "linear", "list": rows, "nextPageCursor": ""}


async def kline(call: Call) -> dict[str, Any]:
    call.linear()
    symbol = call.symbol()
    assert symbol is not None
    label = call.text("interval")
    minutes = mp.parse_interval(label)
    if minutes is None:
        raise ApiError(RetCode.PARAMS_ERROR, f"params error: interval invalid: {label}")
    limit = call.limit(200, 1000)
    tape = call.exchange.replay.tape(symbol)
    if minutes % tape.series.interval_min:
        raise ApiError(
            RetCode.PARAMS_ERROR,
            f"params error: interval {label} is finer than the replayed "
            f"{tape.series.interval_min}-minute data",
        )
    rows = tape.klines(minutes, call.integer("start"), call.integer("end"), limit)
    return {"category": "linear", "symbol": symbol, "list": [mp.kline_row(k) for k in rows]}


async def tickers(call: Call) -> dict[str, Any]:
    call.linear()
    symbol = call.symbol(required=False)
    ex = call.exchange
    symbols = [symbol] if symbol else sorted(ex.instruments)
    return {"category": "linear", "list": [ex.ticker(s) for s in symbols]}


async def funding_history(call: Call) -> dict[str, Any]:
    call.linear()
    symbol = call.symbol()
    assert symbol is not None
    limit = call.limit(200, 200)
    ex = call.exchange
    end = call.integer("endTime", ex.now_ms)
    assert end is not None
    end = min(end, ex.now_ms)
    first = ex.series[symbol].candles[0].start_ms
    start = call.integer("startTime", first)
    assert start is not None
    recorded = ex.series[symbol].funding
    if recorded:
        rows = mp.recorded_funding(symbol, recorded, start, end, limit)
    else:  # the settlements the engine charges: the symbol's interval at the constant rate
        times = ex.engine.funding_times(symbol, max(start, first) - 1, end)
        rows = mp.funding_rows(
            symbol, [(t, ex.engine.funding_rate_at(symbol, t)) for t in times], limit
        )
    return {"category": "linear", "list": rows}


ROUTES: dict[str, Handler] = {
    "/v5/market/time": server_time,
    "/v5/market/instruments-info": instruments_info,
    "/v5/market/kline": kline,
    "/v5/market/tickers": tickers,
    "/v5/market/funding/history": funding_history,
}
