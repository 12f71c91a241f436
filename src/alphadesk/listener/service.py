"""The listener service: every trading account's feed, the public market socket, housekeeping.

One :class:`~alphadesk.adapters.bybit.account_feed.AccountFeed` per account (its private socket
and gap-fill) puts its frames into one :class:`~alphadesk.engine.inbox.Inbox`, which writes them
into the :class:`~alphadesk.engine.ingest.Ingest` in batches: one ledger for every account.

The public socket carries ``kline.5`` and ``tickers`` for the desk's symbols: closed bars go to
stream ``events:bars``, last price and 24 h volume to ``market:{symbol}:price|volume``.

A housekeeping loop replays the spool and flushes pending state when their stores return,
confirms or clears position mismatches, reruns a gap-fill for an account whose fills had to be
refused (spool full), sweeps every account with a gap-fill now and then, and writes the health
snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from alphadesk.adapters.bybit.account_feed import AccountFeed, AccountSpec
from alphadesk.adapters.bybit.config import AccountConfig
from alphadesk.adapters.bybit.models import KlineUpdate, Ticker
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.streams import PublicStream, public_topics
from alphadesk.adapters.bybit.ws import WsSettings
from alphadesk.adapters.bybit.ws_decode import PublicEvent
from alphadesk.engine.clock import utc_now
from alphadesk.engine.dead_letters import DeadLetterBox
from alphadesk.engine.gapfill import Watermarks
from alphadesk.engine.health import HealthBook, HealthReport
from alphadesk.engine.inbox import CommitObserver, Inbox
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.state_ports import DeadLetterStore, EventBus, MarketStateStore

log = logging.getLogger("alphadesk.listener")


class Listener:
    def __init__(
        self,
        ingest: Ingest,
        accounts: Sequence[AccountSpec],
        *,
        symbols: Sequence[str] = (),
        public_config: AccountConfig | None = None,
        bus: EventBus | None = None,
        markets: MarketStateStore | None = None,
        venue_clock: Callable[[], datetime] = utc_now,
        history_start: datetime | None = None,
        ws_settings: WsSettings | None = None,
        health_file: Path | None = None,
        housekeeping_s: float = 1.0,
        watermarks: Watermarks | None = None,
        gapfill_every_s: float | None = 300.0,
        dead_letters: DeadLetterStore | None = None,
        observer: CommitObserver | None = None,
        tickers: bool = True,
    ) -> None:
        """``tickers=False`` leaves the ``tickers`` topic out of the public socket (closed bars
        only): the demo replays a day of a local market in a second, where every tick's 24 h
        ticker would cost the simulator more than the rest of the desk."""
        self.ingest = ingest
        self.dead_letters = (
            None if dead_letters is None
            else DeadLetterBox(dead_letters, alerts=ingest.alerts, clock=venue_clock)
        )  # fmt: skip
        self.health = HealthBook([a.account for a in accounts])
        self.inbox = Inbox(ingest, observer=observer)
        self.feeds = [
            AccountFeed(a, ingest, self.health, inbox=self.inbox, venue_clock=venue_clock,
                        ws_settings=ws_settings, history_start=history_start,
                        watermarks=watermarks, dead_letters=self.dead_letters)
            for a in accounts
        ]
        self.symbols = tuple(symbols)
        self.tickers = tickers
        self.bus = bus
        self.markets = markets
        self.health_file = health_file
        self.housekeeping_s = housekeeping_s
        self.gapfill_every_s = gapfill_every_s
        self._last_sweep = time.monotonic()
        self.bars_published = 0
        self._public_config = public_config
        self._public_rest: BybitRest | None = None
        self._public: PublicStream | None = None
        self._ws_settings = ws_settings
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def start(self, within_s: float = 10.0) -> None:
        self._writer = asyncio.create_task(self.inbox.run(), name="listener-writer")
        await asyncio.gather(*(feed.start(within_s) for feed in self.feeds))
        if self.symbols and self._public_config is not None:
            self._public_rest = BybitRest(self._public_config)
            self._public = PublicStream(
                self._public_rest,
                public_topics(self.symbols, kline_interval_min=5, tickers=self.tickers),
                self._public_event,
                settings=self._ws_settings,
            )
            await self._public.start(within_s)
        self._task = asyncio.create_task(self._housekeeping(), name="listener-housekeeping")

    async def _public_event(self, event: PublicEvent) -> None:
        if isinstance(event, KlineUpdate):
            if event.confirmed and self.bus is not None:
                await self.bus.bars.publish([event.bar])
                self.bars_published += 1
        elif isinstance(event, Ticker) and self.markets is not None and event.last_price:
            await self.markets.set_market(event.symbol, event.last_price, event.volume_24h)

    async def tick(self) -> None:
        """One round of housekeeping (the loop calls it; tests may too)."""
        await self.ingest.recover()
        await self.ingest.recheck()
        if self.ingest.spool.depth().records == 0:
            now = time.monotonic()
            sweep = (
                self.gapfill_every_s is not None and now - self._last_sweep >= self.gapfill_every_s
            )
            if sweep:
                self._last_sweep = now
            for feed in self.feeds:
                if (feed.owes_gapfill or sweep) and feed.session.ready:
                    await feed.run_gapfill()
        for feed in self.feeds:
            self.health.connected(feed.spec.account, feed.session.ready,
                                  reconnects=feed.session.reconnects)
        if self.health_file is not None:
            text = self.report().to_json()
            await asyncio.to_thread(_write_atomic, self.health_file, text)

    def report(self) -> HealthReport:
        stats = self.ingest.stats
        counters: dict[str, Any] = {
            name: getattr(stats, name) for name in stats.__dataclass_fields__
        }
        counters["bars_published"] = self.bars_published
        counters["inbox_depth"] = self.inbox.depth
        dead = self.dead_letters.count() if self.dead_letters is not None else 0
        return self.health.report(self.ingest.spool.depth().records, counters, dead_letters=dead)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.housekeeping_s)
            try:
                await self.tick()
            except Exception:
                log.exception("listener housekeeping failed")

    async def close(self) -> None:
        """Stop reading, write what was already read (briefly), then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._public is not None:
            await self._public.close()
        if self._public_rest is not None:
            await self._public_rest.close()
        for feed in self.feeds:
            await feed.session.close()
        if self._writer is not None:
            await self.inbox.drain(5.0)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        for feed in self.feeds:
            await feed.close()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
