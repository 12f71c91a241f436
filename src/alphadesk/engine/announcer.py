"""Committed fills onto the bus, and the live positions into the state store.

Redis (bus and state) is a cache: if it fails, the ledger keeps being written, the unpublished
fills and the touched position keys wait in memory, and they are flushed (or the positions
rebuilt from the ledger) when it returns. Nothing committed goes unannounced, and nothing twice:
the bus announces each fill once whoever offers it (it remembers the fills it announced), and
each publish marks, in the same atomic step, how far the ledger's rows have been announced. A
process that starts (or whose waiting list outgrew its bound) first offers what the ledger holds
past that mark, less a margin (rows of another writer may commit out of id order), which covers
a crash between a commit and its announcement; fills another path stored without announcing
them are offered when this process meets them as duplicates (see ``FillRecorder``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.domain.positions import Position, fold
from alphadesk.engine.alerting import OutageLog
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.state_ports import (
    EventBus,
    MarketStateStore,
    PositionState,
    PositionStore,
    check_key_part,
    raise_marks,
)

log = logging.getLogger(__name__)

PositionKey = tuple[str, str]

#: Rows before the ``announced`` mark that a catch-up offers again. Ids are handed out at insert
#: and rows commit in another order when two processes write, so a row below the mark may have
#: committed after it; the bus drops whatever it already announced.
CATCH_UP_MARGIN = 2_000


class Announcer:
    """What committed fills still owe Redis: their announcement and their positions."""

    def __init__(
        self,
        writer: FillWriter,
        stats: IngestStats,
        outages: OutageLog,
        *,
        bus: EventBus | None,
        positions: PositionStore | None,
        markets: MarketStateStore | None,
        clock: Callable[[], datetime],
        retry_s: float,
        max_unpublished: int,
    ) -> None:
        self.writer = writer
        self.bus = bus
        self.positions = positions
        self.markets = markets
        self._stats = stats
        self._outages = outages
        self._clock = clock
        self._retry_s = retry_s
        self._max_unpublished = max_unpublished
        self._failed_at: datetime | None = None
        self._unpublished: list[Fill] = []
        # Fills found already stored that perhaps nobody announced: offered to the bus, which
        # announces only those it has not; those it does had their positions moved elsewhere.
        self._offered: list[Fill] = []
        # How far the ledger has been committed (per table, highest row id), and whether the fills
        # a previous process committed but never announced have been looked for yet.
        self._high: dict[str, int] = {}
        self._caught_up = False
        self._dirty: set[PositionKey] = set()
        # A process that starts cannot know what a crashed one left half done (committed, not
        # yet in Redis), so the first flush rebuilds the live positions from the ledger.
        self._state_broken = positions is not None
        self._prefetched: tuple[asyncio.Future[dict[str, Decimal]], frozenset[str]] | None = None

    @property
    def pending(self) -> int:
        """Fills not yet on the bus plus position keys not yet in the state store."""
        return len(self._unpublished) + len(self._offered) + len(self._dirty)

    def offer(self, fills: Sequence[Fill]) -> None:
        """Fills the ledger already held when this process met them: announced by the next flush
        unless the bus announced them before (then nothing happens)."""
        if self.bus is not None and fills:
            self._offered.extend(fills)
            if len(self._offered) > self._max_unpublished:
                self._offered.clear()
                self._caught_up = False  # the catch-up reads them back from the ledger

    def owe(self, new: list[Fill], high_ids: Mapping[str, int]) -> None:
        """Committed fills (each once, in fold order) to announce, and their positions."""
        self._raise_high(high_ids)
        if self.bus is not None:
            self._unpublished.extend(new)
            if len(self._unpublished) > self._max_unpublished:
                # Memory stays bounded and nothing is lost: the ledger has them all, and the
                # catch-up reads back everything after the stream's last mark.
                log.error("bus down too long: %d committed fills wait; they will be announced "
                          "from the ledger when the bus is back", len(self._unpublished))
                self._unpublished.clear()
                self._caught_up = False
        self._dirty.update((f.bot_id, f.symbol) for f in new)

    def prefetch_marks(self, symbols: Iterable[str]) -> None:
        """Start reading the mark prices the next :meth:`flush` will need, so that read overlaps
        the projection's save instead of following it."""
        wanted = frozenset(symbols)
        if self.markets is None or self.positions is None or not wanted:
            return
        self._drop_prefetch()
        self._prefetched = (asyncio.ensure_future(self._marks(set(wanted))), wanted)

    def _drop_prefetch(self) -> None:
        if self._prefetched is not None:
            self._prefetched[0].cancel()
            self._prefetched = None

    def _raise_high(self, marks: Mapping[str, int]) -> None:
        """How far the ledger is committed only grows (per table, highest row id)."""
        raise_marks(self._high, marks)

    async def flush(self) -> None:
        """Announce committed fills and refresh positions; after a failure, retry at most every
        ``retry_s`` so a Redis outage costs one failed call a second, not one a frame."""
        if self._failed_at is not None:
            waited = (self._clock() - self._failed_at).total_seconds()
            if waited < self._retry_s:
                self._drop_prefetch()
                return
        if self.positions is not None and self._dirty and not self._state_broken:
            # The announcement and the positions are independent writes: made together, the
            # batch waits for one Redis round trip instead of two after its commit.
            published, pushed = await asyncio.gather(
                self._publish(), self._push_positions(sorted(self._dirty))
            )
            ok = published and pushed
        else:
            ok = await self._publish()
            if self.positions is None:
                self._dirty.clear()
            elif self._state_broken:
                ok = ok and await self._rebuild_state()
        if ok and self._dirty and self.positions is not None and not self._state_broken:
            ok = await self._push_positions(sorted(self._dirty))  # moved by another path
        self._drop_prefetch()  # not used: nothing to push
        self._failed_at = None if ok else self._clock()

    async def _publish(self) -> bool:
        if self.bus is None:
            return True
        if not self._caught_up and not await self._catch_up():
            return False
        if not self._unpublished and not self._offered:
            return True
        offered, own = list(self._offered), list(self._unpublished)
        try:
            ids = await self.bus.publish_fills(offered + own, announced=dict(self._high) or None)
        except Exception as exc:
            self._stats.publish_failures += 1
            if self._outages.first("bus"):
                log.warning("bus publish failed (%d fills wait): %s", len(own) + len(offered), exc)
            return False
        self._outages.over("bus")
        del self._unpublished[: len(own)]
        del self._offered[: len(offered)]
        self._stats.published += sum(1 for i in ids if i)
        found = [f for f, i in zip(offered, ids[: len(offered)], strict=True) if i]
        if found:
            # Committed by a path that did not announce them: the rows they moved were saved
            # by someone else too, so this process reads them again before pushing them.
            log.warning("announced %d fills another path stored without announcing", len(found))
            keys = {(f.bot_id, f.symbol) for f in found}
            self.writer.forget(keys)
            self._dirty.update(keys)
        return True

    async def _catch_up(self) -> bool:
        """Before the first announcement (and after the waiting list overflowed): fills the
        ledger holds past the stream's ``announced`` mark were committed by a process that died
        (or gave up waiting) before announcing them; they go first. A stream without a mark
        (new, or a Redis that lost its data) has no history to complete."""
        assert self.bus is not None
        try:
            announced = await self.bus.announced()
            stored = await self.writer.high_ids()
            missed = []
            if announced:
                marks = {
                    t: max(0, announced.get(t, top) - CATCH_UP_MARGIN) for t, top in stored.items()
                }
                missed = await self.writer.fills_after(marks)
        except Exception as exc:
            if self._outages.first("catch-up"):
                log.warning("cannot look for unannounced fills yet: %s", exc)
            return False
        self._outages.over("catch-up")
        waiting = {f.key for f in self._unpublished}
        missed = [f for f in missed if f.key not in waiting]
        if missed:  # the bus keeps those it announced before out; the rest are news
            self._offered[:0] = missed
        self._raise_high(stored)
        self._caught_up = True
        return True

    async def _push_positions(self, keys: list[PositionKey]) -> bool:
        assert self.positions is not None
        try:
            records = await self.writer.records(keys)
        except Exception as exc:
            if self._outages.first("ledger-read"):
                log.warning("cannot read ledger positions: %s", exc)
            return False
        self._outages.over("ledger-read")
        marks = await self._marks_for({r.position.symbol for r in records.values()})
        now = self._clock()
        states = [
            state
            for r in records.values()
            if (state := _writable(r.position, seq=r.fill_count, updated_at=now,
                                   mark_price=marks.get(r.position.symbol))) is not None
        ]  # fmt: skip
        try:
            await self.positions.put_positions(states)
        except Exception as exc:
            self._stats.state_failures += 1
            self._state_broken = True
            log.warning("state store write failed; will rebuild when it is back: %s", exc)
            return False
        self._dirty.difference_update(keys)
        return True

    async def _rebuild_state(self) -> bool:
        assert self.positions is not None
        try:
            await self.positions.get_position(UNKNOWN_BOT, "PROBE")  # cheap: is it back?
            await rebuild_positions(self.writer, self.positions, clock=self._clock)
        except Exception as exc:
            self._stats.state_failures += 1
            if self._outages.first("state"):
                log.warning("state store still unavailable: %s", exc)
            return False
        self._outages.over("state")
        self._state_broken = False
        self._dirty.clear()
        if self._stats.state_failures:
            log.warning("state store is back; positions rebuilt from the ledger")
        else:
            log.info("live positions rebuilt from the ledger at start-up")
        return True

    async def _marks_for(self, symbols: set[str]) -> dict[str, Decimal]:
        """The prefetched marks when they cover ``symbols``, else a fresh read."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None:
            task, fetched = prefetched
            if symbols <= fetched:
                return await task
            task.cancel()
        return await self._marks(symbols)

    async def _marks(self, symbols: set[str]) -> dict[str, Decimal]:
        if self.markets is None or not symbols:
            return {}
        try:
            return await self.markets.get_prices(sorted(symbols))
        except Exception:
            return {}


async def rebuild_positions(
    writer: FillWriter,
    positions: PositionStore,
    *,
    bot_ids: Iterable[str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, int]:
    """Make the state store's positions equal the ledger's (``alphadesk state rebuild``).

    Folds every fill of each bot (all bots in the ledger when ``bot_ids`` is None) and replaces
    the bot's whole set; ``seq`` is the number of fills folded, as the projection counts them.
    Returns the number of positions written per bot.
    """
    wanted = None if bot_ids is None else set(bot_ids)
    fills = await writer.read_fills()
    grouped: dict[str, dict[str, list[Fill]]] = {b: {} for b in wanted or ()}
    for fill in fills:
        if wanted is None or fill.bot_id in wanted:
            grouped.setdefault(fill.bot_id, {}).setdefault(fill.symbol, []).append(fill)
    now = clock()
    written: dict[str, int] = {}
    for bot_id, symbols in grouped.items():
        states = [
            state
            for symbol, group in symbols.items()
            if (state := _writable(fold(bot_id, symbol, group), seq=len(group), updated_at=now))
            is not None
        ]
        try:
            await positions.replace_all_positions(bot_id, states)
        except InvalidField as exc:  # this bot's keys only (its id cannot be a key): go on
            log.error("positions of bot %r not written to the state store: %s", bot_id, exc)
            continue
        written[bot_id] = len(states)
    return written


def _writable(
    position: Position, *, seq: int, updated_at: datetime, mark_price: Decimal | None = None
) -> PositionState | None:
    """The state of one position, or None (logged) when it cannot be a state-store entry (a
    symbol or bot id no key may hold, a value out of bounds): that key alone is left out and
    every other one is still written."""
    try:
        check_key_part("bot_id", position.bot_id)
        check_key_part("symbol", position.symbol)
        return PositionState.from_position(
            position, seq=seq, updated_at=updated_at, mark_price=mark_price
        )
    except (InvalidField, ArithmeticError) as exc:
        log.error("position %r/%r cannot be written to the state store (the others are): %s",
                  position.bot_id, position.symbol, exc)  # fmt: skip
        return None
