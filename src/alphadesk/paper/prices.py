"""Where a paper bot's prices come from: replayed candle files, or Bybit's live public market data.

Either way the fills are simulated by the paper venue (the shared matching engine, in the bot's
process) and each closed bar is lived the same way (:func:`paper_bar`): orders decided at the last
close reach the venue at this bar's open, the venue walks the bar, then the strategy sees it.

``ReplayPrices`` (the default) steps through candle files as fast as asked, and resumes after the
last bar a previous run processed (:mod:`alphadesk.paper.resume`). ``LivePrices`` is freqtrade's
dry-run: closed bars from the public kline stream, the warm-up from the public REST klines, the
instruments from the public instruments list, each settlement's funding rate from the public
tickers and funding history (:mod:`alphadesk.paper.live_funding`); no key, so nothing private is
ever called.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment
from alphadesk.adapters.bybit.models import KlineUpdate, Ticker
from alphadesk.adapters.bybit.streams import public_topics
from alphadesk.adapters.bybit.venue import recent_closed_bars
from alphadesk.adapters.sim.clock import ReplayClock
from alphadesk.adapters.sim.paper import PaperExchange
from alphadesk.backtest.data import MarketData, for_strategy, load
from alphadesk.backtest.instruments import default_instrument
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.checks import from_epoch_ms, to_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.engine.live_driver import Backfill, LiveDriver
from alphadesk.paper.book import PaperBook
from alphadesk.paper.live_funding import LiveFunding
from alphadesk.paper.resume import PaperResume, first_step
from alphadesk.strategies.api import Strategy

log = logging.getLogger("alphadesk.bot")

#: The last processed step is recorded every this many steps (each write is fsync'd) and when
#: the run ends. A crash loses at most this many steps of it, and a restart never replays a step
#: the ledger has a fill from (the newest fill bounds it too); the steps it does replay had placed
#: orders at most, which died with the crashed process's in-memory venue, and are decided again.
CURSOR_EVERY = 100


class PaperPrices(Protocol):
    symbols: list[str]
    instruments: dict[str, Instrument]
    funding: dict[str, dict[int, Decimal]]
    start_ms: int

    async def prepare(self, warm: int, fills: Sequence[Fill]) -> dict[str, list[Bar]]:
        """Decide where trading starts (``start_ms``); return the bars to warm up on."""

    def last_close(self, symbol: str) -> Decimal | None:
        """The close before ``start_ms``: where a position seeded at restart is marked."""

    def backfill(self, clock: ReplayClock, exchange: PaperExchange) -> Backfill | None: ...

    async def run(
        self, driver: LiveDriver, clock: ReplayClock, exchange: PaperExchange, book: PaperBook,
        stop: asyncio.Event, ready: Callable[[], None],
    ) -> int:
        """Trade until done or ``stop``; returns the close time of the last bar processed.
        ``ready`` is called once bars can arrive (a stream subscribed), before the first."""

    async def close(self) -> None: ...


async def paper_bar(
    bar: Bar, clock: ReplayClock, exchange: PaperExchange, driver: LiveDriver
) -> None:
    """One symbol's closed bar, as a live bot lives it on the paper venue."""
    symbol = bar.symbol
    clock.set(bar.open_time_ms)
    if any(r.symbol == symbol for r in driver.gateway.orders):
        await exchange.on_price(symbol, to_decimal(bar.open))
        await driver.send_orders(symbol)
    await exchange.on_bar(bar)
    clock.set(bar.close_time_ms)
    await driver.on_closed_bar(bar)


# -- replayed candle files --------------------------------------------------------------------


def replay_data(strategy: Strategy[Any], files: Sequence[Path] = ()) -> MarketData:
    """The candles a paper bot replays: ``files``, else the bundled ones of the strategy's
    timeframe (and symbols, when it names them); the strategy's symbols where it names them."""
    chosen_files = list(files)
    if not chosen_files:
        from alphadesk.adapters.market_store.files import interval_label
        from alphadesk.data import market_files

        label = interval_label(strategy.timeframe_min)
        chosen_files = market_files(f"*_{label}_bybit-perp-*.csv")
        if strategy.symbols:
            chosen_files = [
                f for f in chosen_files if f.name.split("_", 1)[0] in strategy.symbols
            ]
    if not chosen_files:
        raise ValueError(f"no candle files for {strategy.name} in paper mode; pass --data")
    data = load(chosen_files)
    for note in data.notes:
        log.warning("paper data: %s", note)
    if strategy.symbols and not set(strategy.symbols) & set(data.symbols):
        return data  # nothing of its universe: it trades what it is given, as before
    return for_strategy(data, strategy)


def bars_before(data: MarketData, symbol: str, start: int, count: int) -> list[Bar]:
    """The symbol's last ``count`` bars opening before timeline step ``start``."""
    if count <= 0 or start <= 0:
        return []
    index = data.index[symbol][:start]
    present = [int(i) for i in index if i >= 0]
    series = data.series[symbol]
    return [series.bar(i) for i in present[-count:]]


def bars_since(data: MarketData, symbol: str, first_open_ms: int, start: int) -> list[Bar]:
    """The symbol's bars opening at or after ``first_open_ms`` and before step ``start``."""
    series = data.series[symbol]
    index = data.index[symbol][:start]
    bars = (series.bar(int(i)) for i in index if i >= 0)
    return [b for b in bars if b.open_time_ms >= first_open_ms]


class ReplayPrices:
    def __init__(
        self,
        data: MarketData,
        resume: PaperResume,
        *,
        from_ms: int | None = None,
        max_bars: int | None = None,
        pace_s: float = 0.0,
    ) -> None:
        self.data = data
        self.resume = resume
        self.from_ms = from_ms
        self.max_bars = max_bars
        self.pace_s = pace_s
        self.symbols = list(data.symbols)
        self.instruments = {
            s: data.instruments.get(s) or default_instrument(b) for s, b in data.series.items()
        }
        self.funding = {s: h.as_map() for s, h in data.funding.items()}
        """Recorded funding rates the paper venue charges (the constant pays the rest)."""
        self.timeline: list[int] = [int(t) for t in data.timeline.tolist()]
        self.start = 0
        self.start_ms = 0
        self.last_close_ms = 0

    async def prepare(self, warm: int, fills: Sequence[Fill]) -> dict[str, list[Bar]]:
        timeline = self.timeline
        newest = max((to_epoch_ms(f.exec_time) for f in fills), default=None)
        recorded = self.resume.last_close_ms()
        fresh = first_step(timeline, from_ms=self.from_ms)
        start = first_step(
            timeline, from_ms=self.from_ms, last_close_ms=recorded, newest_fill_ms=newest
        )
        self.start = start
        span = self.data.interval_min * 60_000
        self.start_ms = timeline[start] if start < len(timeline) else timeline[-1] + span
        origin = self.resume.warm_from()
        resumed = start > fresh
        if resumed:
            log.info(
                "paper: resuming after %s (the last bar processed, from %s and the ledger); "
                "%d replayed steps left",
                from_epoch_ms("resume", self.start_ms).isoformat(),
                self.resume.path,
                len(timeline) - start,
            )
        if resumed and set(self.symbols) <= set(origin):
            # the first run's warm-up origin: the indicators come back exactly as they were
            return {s: bars_since(self.data, s, origin[s], start) for s in self.symbols}
        bars = {s: bars_before(self.data, s, start, warm) for s in self.symbols}
        self.resume.save_warm_from(
            {s: (b[0].open_time_ms if b else self.start_ms) for s, b in bars.items()}
        )
        return bars

    def last_close(self, symbol: str) -> Decimal | None:
        before = bars_before(self.data, symbol, self.start, 1)
        return to_decimal(before[-1].close) if before else None

    def backfill(self, clock: ReplayClock, exchange: PaperExchange) -> Backfill | None:
        return None  # a replay has no gaps to fetch

    async def run(
        self, driver: LiveDriver, clock: ReplayClock, exchange: PaperExchange, book: PaperBook,
        stop: asyncio.Event, ready: Callable[[], None],
    ) -> int:
        data, timeline = self.data, self.timeline
        end = len(timeline)
        if self.max_bars is not None:
            end = min(end, self.start + self.max_bars)
        self.last_close_ms = self.start_ms
        saved_at = self.start
        ready()
        try:
            for k in range(self.start, end):
                if stop.is_set():
                    break
                close_ms = timeline[k] + data.interval_min * 60_000
                for symbol in data.symbols:
                    i = int(data.index[symbol][k])
                    if i >= 0:
                        await paper_bar(data.series[symbol].bar(i), clock, exchange, driver)
                await driver.decide(close_ms)
                self.last_close_ms = close_ms
                book.save()
                if k + 1 - saved_at >= CURSOR_EVERY:
                    self.resume.save(close_ms)
                    saved_at = k + 1
                await asyncio.sleep(self.pace_s)
        finally:
            if self.last_close_ms > self.start_ms:
                self.resume.save(self.last_close_ms)
        return self.last_close_ms

    async def close(self) -> None:
        return None


# -- live public Bybit prices -----------------------------------------------------------------


class LivePrices:
    """Closed bars from Bybit's public kline stream (``base_url``: a local simulator)."""

    def __init__(
        self, client: BybitClient, instruments: dict[str, Instrument], interval_min: int,
        *, max_bars: int | None = None,
    ) -> None:
        self.client = client
        self.instruments = instruments
        self.funding: dict[str, dict[int, Decimal]] = {}  # live: recorded as Bybit gives them
        self.symbols = sorted(instruments)
        self.live_funding = LiveFunding(client, self.symbols)
        """Bybit's rate for each settlement (tickers, funding history), the constant only as the
        logged fallback."""
        self.interval_min = interval_min
        self.max_bars = max_bars
        self.start_ms = 0
        self._last: dict[str, Bar] = {}
        self._walked: dict[str, int] = {}

    @classmethod
    async def open(
        cls, symbols: Sequence[str], interval_min: int, *, base_url: str | None,
        max_bars: int | None = None,
    ) -> LivePrices:
        """A key-less client (clock synced, no key check) and the symbols' instruments."""
        config = AccountConfig.public("paper-prices", environment=Environment.LIVE,
                                      base_url=base_url)
        client = await BybitClient.connect(config, trading=False)
        try:
            instruments: dict[str, Instrument] = {}
            for symbol in sorted(symbols):
                found = await client.market.instruments(symbol)
                if not found:
                    raise ValueError(f"symbol={symbol!r}: not listed by Bybit (linear)")
                instruments[symbol] = found[0]
        except BaseException:
            await client.close()
            raise
        return cls(client, instruments, interval_min, max_bars=max_bars)

    async def prepare(self, warm: int, fills: Sequence[Fill]) -> dict[str, list[Bar]]:
        history: dict[str, list[Bar]] = {}
        for symbol in self.symbols:
            bars = await recent_closed_bars(self.client, symbol, self.interval_min, max(warm, 1))
            if bars:
                self._last[symbol] = bars[-1]
                self._walked[symbol] = bars[-1].open_time_ms
            history[symbol] = bars[-warm:] if warm > 0 else []
        closes = [b.close_time_ms for b in self._last.values()]
        if not closes:
            closes = [to_epoch_ms(await self.client.market.server_time())]
        self.start_ms = max(closes)
        return history

    def last_close(self, symbol: str) -> Decimal | None:
        bar = self._last.get(symbol)
        return to_decimal(bar.close) if bar is not None else None

    def backfill(self, clock: ReplayClock, exchange: PaperExchange) -> Backfill | None:
        """Bars missed while the stream was down: the venue walks them first (a stop may have
        triggered in them), then the driver feeds them to the indicators (no decisions)."""

        async def fetch(symbol: str, first: int, last: int) -> list[Bar]:
            bars = await self.client.market.klines(
                symbol, self.interval_min, from_epoch_ms("start", first),
                from_epoch_ms("end", last),
            )
            await self._walk(bars, clock, exchange)
            return bars

        return fetch

    async def _walk(self, bars: Sequence[Bar], clock: ReplayClock, exchange: PaperExchange) -> None:
        for bar in bars:
            if bar.open_time_ms <= self._walked.get(bar.symbol, -1):
                continue
            await self.live_funding.before_walk(exchange.engine, bar.symbol, bar.open_time_ms)
            clock.set(bar.open_time_ms)
            await exchange.on_bar(bar)
            clock.set(bar.close_time_ms)
            self._walked[bar.symbol] = bar.open_time_ms

    async def run(
        self, driver: LiveDriver, clock: ReplayClock, exchange: PaperExchange, book: PaperBook,
        stop: asyncio.Event, ready: Callable[[], None],
    ) -> int:
        span = self.interval_min * 60_000
        funding = self.live_funding
        await funding.start(exchange.engine, self.start_ms)

        async def on_public(event: object) -> None:
            if isinstance(event, Ticker):
                funding.on_ticker(exchange.engine, event)
                return
            if stop.is_set() or not isinstance(event, KlineUpdate) or not event.confirmed:
                return  # after the stop, bars still in flight are left alone
            bar = event.bar
            last = self._walked.get(bar.symbol)
            if last is not None and bar.open_time_ms <= last:
                return  # a repeat (subscribe snapshot, reconnect)
            if last is not None and bar.open_time_ms > last + span and driver.backfill:
                # the venue walks the missed bars in order before this one
                await driver.backfill(bar.symbol, last + span, bar.open_time_ms - span)
            await funding.before_walk(exchange.engine, bar.symbol, bar.open_time_ms)
            await paper_bar(bar, clock, exchange, driver)
            self._walked[bar.symbol] = bar.open_time_ms
            book.save()
            if self.max_bars is not None and driver.stats.steps >= self.max_bars:
                stop.set()

        await self.client.public_stream(
            public_topics(self.symbols, kline_interval_min=self.interval_min, tickers=True),
            on_public,
        )
        ready()
        if self.max_bars == 0:
            stop.set()
        await stop.wait()
        return driver.stats.last_close_ms or self.start_ms

    async def close(self) -> None:
        await self.client.close()
