"""Market data over REST: server time, instruments, klines, tickers, funding history.

Klines: Bybit returns at most 1000 rows per call, newest first, inside ``[start, end]``. A long
range is therefore walked backwards: each page moves ``end`` to just before the oldest row seen,
until the range is covered or Bybit has no older data. The result is oldest first, de-duplicated,
and by default without the bar that is still forming.
"""

from __future__ import annotations

from datetime import datetime

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import FundingRate, PublicTrade, Ticker
from alphadesk.adapters.bybit.parse_market import (
    bar_from_row,
    funding_rate_from_info,
    instrument_from_info,
    interval_code,
    public_trade_from_rest,
    ticker_from_info,
)
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.wire import utc_ms
from alphadesk.domain.bars import MINUTE_MS, Bar
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument

CATEGORY = "linear"
KLINE_PAGE = 1000
FUNDING_PAGE = 200


class MarketData:
    def __init__(self, rest: BybitRest) -> None:
        self._rest = rest

    async def server_time(self) -> datetime:
        reply = await self._rest.get(
            "publicGetV5MarketTime", {}, endpoint="/v5/market/time", result_type=w.ServerTime
        )
        if reply.result.timeNano.isdigit():
            return utc_ms("time.timeNano", int(reply.result.timeNano) // 1_000_000)
        return utc_ms("time", reply.time_ms)

    async def instruments(self, symbol: str | None = None) -> list[Instrument]:
        """Every linear instrument (all pages), or the one ``symbol``."""
        params: dict[str, str | int] = {"category": CATEGORY, "limit": 1000}
        if symbol:
            params["symbol"] = symbol
        found: list[Instrument] = []
        async for page in self._rest.pages(
            "publicGetV5MarketInstrumentsInfo",
            params,
            endpoint="/v5/market/instruments-info",
            result_type=w.InstrumentsResult,
            items=lambda r: r.list,
            cursor=lambda r: r.nextPageCursor,
        ):
            found.extend(instrument_from_info(i) for i in page)
        return found

    async def klines(
        self,
        symbol: str,
        interval_min: int,
        start: datetime,
        end: datetime,
        *,
        closed_only: bool = True,
    ) -> list[Bar]:
        """Bars opening in ``[start, end]``, oldest first, over as many pages as it takes."""
        code = interval_code(interval_min)
        start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
        if end_ms < start_ms:
            raise InvalidField("klines.end", end, f"is before start {start}")
        bars: dict[int, Bar] = {}
        cursor_end = end_ms
        while cursor_end >= start_ms:
            reply = await self._rest.get(
                "publicGetV5MarketKline",
                {
                    "category": CATEGORY,
                    "symbol": symbol,
                    "interval": code,
                    "start": start_ms,
                    "end": cursor_end,
                    "limit": KLINE_PAGE,
                },
                endpoint="/v5/market/kline",
                result_type=w.KlineResult,
            )
            rows = [bar_from_row(row, symbol, interval_min) for row in reply.result.list]
            rows = [b for b in rows if start_ms <= b.open_time_ms <= cursor_end]
            if not rows:
                break
            for bar in rows:
                bars[bar.open_time_ms] = bar
            oldest = min(b.open_time_ms for b in rows)
            if len(reply.result.list) < KLINE_PAGE:
                break
            cursor_end = oldest - 1
        ordered = [bars[t] for t in sorted(bars)]
        if closed_only:
            now = self._rest.clock.now_ms()
            ordered = [b for b in ordered if b.open_time_ms + interval_min * MINUTE_MS <= now]
        return ordered

    async def ticker(self, symbol: str) -> Ticker:
        reply = await self._rest.get(
            "publicGetV5MarketTickers",
            {"category": CATEGORY, "symbol": symbol},
            endpoint="/v5/market/tickers",
            result_type=w.TickersResult,
        )
        for info in reply.result.list:
            if info.symbol == symbol:
                return ticker_from_info(info, at=utc_ms("tickers.time", reply.time_ms))
        raise InvalidField("ticker.symbol", symbol, "is not in Bybit's tickers reply")

    async def funding_history(
        self, symbol: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[FundingRate]:
        """Funding rates, oldest first; pages backwards by ``endTime`` (there is no cursor)."""
        found: dict[int, FundingRate] = {}
        start_ms = to_epoch_ms(start) if start is not None else None
        end_ms = to_epoch_ms(end) if end is not None else None
        if start_ms is not None and end_ms is None:
            end_ms = self._rest.clock.now_ms()  # Bybit refuses startTime without endTime
        while True:
            params: dict[str, str | int] = {
                "category": CATEGORY,
                "symbol": symbol,
                "limit": FUNDING_PAGE,
            }
            if end_ms is not None:
                params["endTime"] = end_ms
                if start_ms is not None:
                    params["startTime"] = start_ms
            reply = await self._rest.get(
                "publicGetV5MarketFundingHistory",
                params,
                endpoint="/v5/market/funding/history",
                result_type=w.FundingHistoryResult,
            )
            rates = [funding_rate_from_info(f) for f in reply.result.list]
            if start_ms is not None:
                rates = [r for r in rates if to_epoch_ms(r.at) >= start_ms]
            new = [r for r in rates if to_epoch_ms(r.at) not in found]
            for rate in new:
                found[to_epoch_ms(rate.at)] = rate
            if len(reply.result.list) < FUNDING_PAGE or not new:
                break
            end_ms = min(to_epoch_ms(r.at) for r in new) - 1
        return [found[t] for t in sorted(found)]

    async def recent_trades(self, symbol: str, limit: int = 500) -> list[PublicTrade]:
        reply = await self._rest.get(
            "publicGetV5MarketRecentTrade",
            {"category": CATEGORY, "symbol": symbol, "limit": limit},
            endpoint="/v5/market/recent-trade",
            result_type=w.RecentTradesResult,
        )
        return [public_trade_from_rest(t) for t in reply.result.list]
