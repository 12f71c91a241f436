"""The listener process: one private socket per trading account, one public socket, one ledger.

Each account's private WebSocket (``execution``, ``order``, ``position``, ``wallet``) feeds the
:class:`~alphadesk.engine.ingest.Ingest` one frame at a time. A frame is decoded row by row, so a
malformed row is logged and counted while the rows around it are still recorded, and (with a
dead-letter store) set aside there once with its raw JSON and reason, and an alert. After the
socket is first ready, and again after every reconnect (the session's hook), the account's
:class:`~alphadesk.engine.gapfill.GapFiller` asks the REST history for what the socket missed.
The socket is started *before* the start-up gap-fill, so nothing falls between the two.

The public socket carries ``kline.5`` and ``tickers`` for the desk's symbols: closed bars go to
stream ``events:bars``, last price and 24 h volume to ``market:{symbol}:price|volume``.

A housekeeping loop replays the spool and flushes pending state when their stores return,
confirms or clears position mismatches, reruns a gap-fill for an account whose fills had to be
refused (spool full), and writes the health snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.account import Account
from alphadesk.adapters.bybit.config import AccountConfig, Environment
from alphadesk.adapters.bybit.history import History
from alphadesk.adapters.bybit.items import SkippedItem, raw_text
from alphadesk.adapters.bybit.models import KlineUpdate, Ticker
from alphadesk.adapters.bybit.parse import VENUE
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.secret import Secret
from alphadesk.adapters.bybit.streams import PRIVATE_TOPICS, PublicStream, public_topics
from alphadesk.adapters.bybit.trading import Trading
from alphadesk.adapters.bybit.ws import WsCredentials, WsSession, WsSettings
from alphadesk.adapters.bybit.ws_decode import PrivateEvent, PublicEvent, private_events
from alphadesk.app.settings import BotSettings, Settings, SettingsError
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.engine.clock import utc_now
from alphadesk.engine.dead_letters import DeadLetterBox
from alphadesk.engine.gapfill import GapFiller, Watermarks
from alphadesk.engine.health import HealthBook, HealthReport
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.state_ports import DeadLetterStore, EventBus, MarketStateStore, SpoolFull

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One venue account (one API key) and the bots that trade on it.

    ``default_bot`` is who an order the desk did not tag belongs to: the bot when the key is one
    bot's alone, ``unknown`` when bots share it (they are told apart by ``orderLinkId``).
    """

    config: AccountConfig
    bots: tuple[str, ...]

    @property
    def account(self) -> str:
        return self.config.account

    @property
    def default_bot(self) -> str:
        return self.bots[0] if len(self.bots) == 1 else UNKNOWN_BOT


def accounts_from_settings(settings: Settings) -> list[AccountSpec]:
    """One spec per distinct API key among the bots that have keys; bots sharing a key share
    the account (labelled by the first bot's account name)."""
    by_key: dict[str, tuple[BotSettings, list[str]]] = {}
    for bot in settings.bots:
        if not bot.has_credentials:
            continue
        key = bot.api_key.reveal()
        first, bots = by_key.setdefault(key, (bot, []))
        if first.api_secret.reveal() != bot.api_secret.reveal():
            raise SettingsError(f"bots {first.bot_id} and {bot.bot_id} share an API key "
                                "with different secrets")
        bots.append(bot.bot_id)
    environment = Environment(settings.bybit_environment)
    return [
        AccountSpec(
            AccountConfig(first.account, key, Secret(first.api_secret.reveal()), environment,
                          base_url=settings.bybit_base_url),
            tuple(bots),
        )
        for key, (first, bots) in by_key.items()
    ]


def account_bots(specs: Sequence[AccountSpec]) -> dict[tuple[str, str], tuple[str, ...]]:
    """What :class:`Ingest` needs to sum an account's bots when checking a venue snapshot."""
    return {(VENUE, spec.account): spec.bots for spec in specs}


def decode_private(
    msg: w.WsMessage, account: str, default_bot: str
) -> tuple[list[PrivateEvent], list[str]]:
    """A private frame's events, row by row; returns (events, one error text per bad row).

    The adapter skips a row it cannot read and keeps the rest of the frame; the skipped rows
    come back here as error texts to be counted and logged.
    """
    events, skipped = decode_private_rows(msg, account, default_bot)
    return events, [f"{item.where} {item.item_id}: {item.reason}" for item in skipped]


def decode_private_rows(
    msg: w.WsMessage, account: str, default_bot: str, *, now: datetime | None = None
) -> tuple[list[PrivateEvent], list[SkippedItem]]:
    """:func:`decode_private` keeping each skipped row whole (raw JSON and reason), for the
    dead-letter store. A frame that fails as a whole is one skipped item holding its data."""
    if msg.topic not in PRIVATE_TOPICS:
        return [], [SkippedItem(msg.topic, "?", f"unknown topic {msg.topic!r}")]
    skipped: list[SkippedItem] = []
    try:
        events = private_events(msg, account, default_bot=default_bot, skipped=skipped, now=now)
    except Exception as exc:  # the frame itself (not a row) is bad: any error is its own
        reason = str(exc) if isinstance(exc, InvalidField) else f"{type(exc).__name__}: {exc}"
        return [], [SkippedItem(msg.topic, "?", reason, raw_text(msg.data))]
    return events, skipped


class Inbox:
    """Frames of every account's socket, written in batches.

    While one batch is being committed, the frames that arrive queue here; the next batch takes
    them all (up to ``max_batch``), so a burst costs one ledger transaction, not one per frame.
    The queue is bounded: when it is full the sockets' readers wait, and TCP pushes back on the
    venue instead of memory growing. Frames still queued when the process dies were never
    recorded, so the start-up gap-fill fetches them again.
    """

    def __init__(
        self,
        ingest: Ingest,
        *,
        max_frames: int = 10_000,
        max_batch: int = 2_000,
        max_in_flight: int = 2,
    ):
        self.ingest = ingest
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.batches = 0
        self._queue: asyncio.Queue[tuple[AccountFeed, list[PrivateEvent]]] = asyncio.Queue(
            max_frames
        )

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def put(self, feed: AccountFeed, events: list[PrivateEvent]) -> None:
        await self._queue.put((feed, events))

    async def run(self) -> None:
        """Take the next batch as soon as the previous one's fills are committed: its insert
        overlaps the earlier batches' projection and announcement, which stay in commit order
        (see :class:`Ingest`); when those fall behind, the next turn settles every commit made
        meanwhile at once. At most ``max_in_flight`` batches are in flight."""
        in_flight: list[asyncio.Task[None]] = []
        try:
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                committed = asyncio.Event()
                in_flight.append(asyncio.create_task(self._write(batch, committed.set)))
                await committed.wait()
                while len(in_flight) >= self.max_in_flight or (in_flight and in_flight[0].done()):
                    await in_flight.pop(0)
        finally:  # a stopping listener still finishes what it has committed
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _write(
        self, batch: list[tuple[AccountFeed, list[PrivateEvent]]], committed: Callable[[], None]
    ) -> None:
        try:
            reports = [e for _, events in batch for e in events]
            await self.ingest.ingest(reports, committed=committed)
            self.batches += 1
        except SpoolFull as exc:
            for feed, _ in batch:  # refused, not lost: the venue's history still has them
                feed.owes_gapfill = True
            log.error("%s", exc)
        except Exception:
            for feed, _ in batch:
                feed.owes_gapfill = True
            log.exception("writing a batch of %d frames failed; gap-fill will recover it",
                          len(batch))
        finally:
            committed()  # also when the batch failed before its commit stage ended
            for _ in batch:
                self._queue.task_done()

    async def drain(self, within_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within_s)


class AccountFeed:
    """One account: its private socket, its gap-filler, and whether it owes a gap-fill."""

    def __init__(
        self,
        spec: AccountSpec,
        ingest: Ingest,
        health: HealthBook,
        *,
        inbox: Inbox,
        venue_clock: Callable[[], datetime],
        ws_settings: WsSettings | None,
        history_start: datetime | None,
        watermarks: Watermarks | None = None,
        dead_letters: DeadLetterBox | None = None,
    ) -> None:
        self.spec = spec
        self.dead_letters = dead_letters
        self._rest_skipped: list[SkippedItem] = []
        self.inbox = inbox
        self.ingest = ingest
        self.health = health
        self.rest = BybitRest(spec.config)
        self.trading = Trading(self.rest, default_bot=spec.default_bot)
        history = History(self.rest, default_bot=spec.default_bot,
                          on_skipped=self._rest_skipped.extend)
        self.gapfill = GapFiller(ingest, VENUE, spec.account, history, clock=venue_clock,
                                 watermarks=watermarks)
        if history_start is not None:
            self.gapfill.lookback = venue_clock() - history_start
        self.owes_gapfill = False
        self.session = WsSession(
            self.rest.endpoints.private_ws,
            PRIVATE_TOPICS,
            self._frame,
            name=f"listener-{spec.account}",
            credentials=WsCredentials(spec.config.api_key, spec.config.secret),
            clock=self.rest.clock,
            on_reconnect=self.run_gapfill,
            settings=ws_settings,
        )

    async def start(self, within_s: float) -> None:
        await self.rest.sync_clock()
        await Account(self.rest).check_key(trading=False)  # invariant 6: no withdraw keys
        self.session.start()
        try:
            await self.session.wait_ready(within_s)
        except TimeoutError:
            # Not a refusal (those raise the session's failure): the session keeps trying, and
            # housekeeping runs the gap-fill once it is ready, since no reconnect hook will.
            self.owes_gapfill = True
            log.warning("%s: socket not ready after %s s; still trying", self.spec.account,
                        within_s)
            return
        self.health.connected(self.spec.account, True)
        await self.run_gapfill()

    async def _frame(self, msg: w.WsMessage) -> None:
        account = self.spec.account
        now = from_epoch_ms("venue.now", self.rest.clock.now_ms())
        events, skipped = decode_private_rows(msg, account, self.spec.default_bot, now=now)
        for item in skipped:
            self.ingest.note_malformed(account, f"{item.where} {item.item_id}: {item.reason}")
        await self._set_aside(skipped, "ws")
        newest = max((e.exec_time for e in events if isinstance(e, Fill)), default=None)
        self.health.message(account, newest)
        if events:
            await self.inbox.put(self, events)

    async def _set_aside(self, skipped: list[SkippedItem], via: str) -> None:
        """Rows that could not be read go to the dead-letter store (once each, with an alert);
        a row with no raw text (an unknown topic) is only counted and logged."""
        rows = [item for item in skipped if item.raw]
        if self.dead_letters is None or not rows:
            return
        where = {"/v5/execution/list": "execution"}
        await self.dead_letters.put([
            self.dead_letters.letter(f"{via}:{where.get(item.where, item.where)}", item.reason,
                                     item.raw, venue=VENUE, account=self.spec.account)
            for item in rows
        ])  # fmt: skip

    async def run_gapfill(self) -> None:
        self.health.connected(self.spec.account, self.session.ready)
        try:
            await self.gapfill.run()
        except SpoolFull as exc:
            self.owes_gapfill = True
            self.health.gap_fill_failed(self.spec.account, f"spool full: {exc}")
            log.error("%s: gap-fill refused: %s", self.spec.account, exc)
            return
        except Exception as exc:
            self.owes_gapfill = True
            self.health.gap_fill_failed(self.spec.account, f"{type(exc).__name__}: {exc}")
            log.error("%s: gap-fill failed, will retry: %s: %s", self.spec.account,
                      type(exc).__name__, exc)
            return
        finally:
            skipped, self._rest_skipped[:] = list(self._rest_skipped), []
            await self._set_aside(skipped, "rest")
        self.owes_gapfill = False
        self.health.gap_filled(self.spec.account, await self._newest())
        await self._check_positions()

    async def _check_positions(self) -> None:
        """With the ledger level again, the venue's own list of positions is checked against it
        (position pushes lost with a dropped socket left no newer snapshot to check)."""
        try:
            listed = await self.trading.positions()
        except Exception as exc:  # unknown, not flat: earlier suspects stay as they are
            log.warning("%s: positions not read after the gap-fill: %s: %s", self.spec.account,
                        type(exc).__name__, exc)
            return
        await self.ingest.venue_positions(VENUE, self.spec.account, listed)

    async def _newest(self) -> datetime | None:
        with contextlib.suppress(Exception):
            return await self.ingest.writer.last_exec_time(VENUE, self.spec.account)
        return None

    async def close(self) -> None:
        await self.session.close()
        await self.rest.close()


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
    ) -> None:
        self.ingest = ingest
        self.dead_letters = (
            None if dead_letters is None
            else DeadLetterBox(dead_letters, alerts=ingest.alerts, clock=venue_clock)
        )  # fmt: skip
        self.health = HealthBook([a.account for a in accounts])
        self.inbox = Inbox(ingest)
        self.feeds = [
            AccountFeed(a, ingest, self.health, inbox=self.inbox, venue_clock=venue_clock,
                        ws_settings=ws_settings, history_start=history_start,
                        watermarks=watermarks, dead_letters=self.dead_letters)
            for a in accounts
        ]
        self.symbols = tuple(symbols)
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
                public_topics(self.symbols, kline_interval_min=5, tickers=True),
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
