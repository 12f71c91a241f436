"""The one entrance for fills: commit, then project, then announce (invariants 1 and 3).

Every fill the desk records comes through a :class:`FillRecorder`: the listener's (one per
listener process, for the Bybit accounts), a paper bot's (its venue lives in its own process),
the demo's. Bots trading on Bybit never write fills; they read them into their books.

Order of work is the point. Fills go to the fill writer, which stores each (venue, account,
exec_id) once; only after the commit returns does anything else move: the projection
(``FillWriter.project``), the bus (``events:fills`` then ``fills_channel``) and the live
``position:{bot}:{symbol}`` keys (:mod:`alphadesk.engine.announcer`). That second stage runs for
every commit in commit order and may overlap the next batch's commit.

The database can fail two ways, and they are told apart:

- *Unreachable* (connection refused, pooler gone, timeout): the batch goes to the bounded on-disk
  spool and nothing is published; while the spool holds anything, later batches queue behind it
  so the ledger sees fills in arrival order, and the spool is replayed when the database answers.
- *Refused rows* (:class:`~alphadesk.engine.ports.LedgerRejected`: a value the ledger's types or
  constraints do not take): retrying can never succeed, so the batch is split in halves until
  the refused rows stand alone; they go to the dead-letter store with the reason and an alert,
  and every other row is recorded. A refused row in the spool is isolated the same way, so one
  bad row never holds the spool (and every later fill) back.

Announcements follow the ledger, not one insert. This recorder knows how far the ledger's rows
go that it committed or read (per table, the highest row id). When a batch meets fills already
stored, and the ledger has grown past what this recorder knows, another path has committed rows
meanwhile: those rows are read back and offered to the bus, which announces each fill once
whoever offers it (see ``EventBus``); one that turns out never to have been announced also has
its live position refreshed from the ledger. Duplicates of this recorder's own earlier fills (a
gap-fill's overlap) cost nothing: the ledger has not grown past what it knows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from alphadesk.domain.alerts import Alert
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.domain.ordering import in_fold_order
from alphadesk.engine.alerting import AlertSink, OutageLog, raise_alert
from alphadesk.engine.announcer import Announcer
from alphadesk.engine.clock import utc_now
from alphadesk.engine.dead_letters import DeadLetterBox
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.engine.ledger import Committed, FillWriter
from alphadesk.engine.ports import LedgerRejected
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.engine.state_ports import (
    DeadLetterStore,
    EventBus,
    FillSpool,
    MarketStateStore,
    PositionStore,
    raise_marks,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What one batch did: new fills, ones already stored, fills spooled while the database is
    unreachable, and rows the ledger refused (now dead letters)."""

    inserted: tuple[FillKey, ...] = ()
    duplicates: tuple[FillKey, ...] = ()
    spooled: int = 0
    rejected: int = 0


def fill_payload(fill: Fill) -> str:
    """A refused fill as JSON text for its dead letter: every field, as a string, so nothing
    about it is lost whatever made the ledger refuse it (``\\u0000`` and all)."""
    row = {"execId": fill.exec_id}  # the id the dead-letter box knows a row by
    row.update((f.name, str(getattr(fill, f.name))) for f in fields(fill))
    return json.dumps(row, ensure_ascii=True)


class FillRecorder:
    """Records fills exactly once, durably, then projects and announces them.

    One instance per process that records fills. :meth:`record` does the whole path; the
    listener, which overlaps the next batch's commit with the previous one's announcement, calls
    :meth:`commit` and then, holding :attr:`post_lock`, :meth:`settle` itself.
    """

    def __init__(
        self,
        writer: FillWriter,
        spool: FillSpool | None = None,
        *,
        bus: EventBus | None = None,
        positions: PositionStore | None = None,
        markets: MarketStateStore | None = None,
        alerts: AlertSink | None = None,
        dead_letters: DeadLetterStore | None = None,
        stats: IngestStats | None = None,
        outages: OutageLog | None = None,
        clock: Callable[[], datetime] = utc_now,
        db_retry_s: float = 1.0,
        state_retry_s: float = 1.0,
        max_unpublished: int = 100_000,
        trades: RoundTripKeeper | None = None,
    ) -> None:
        self.writer = writer
        self.trades = trades
        """Keeps ``trading.completed_trades`` after each projection (never fails a write)."""
        self.spool = spool
        self.alerts = alerts
        self.dead_letters = (
            DeadLetterBox(dead_letters, alerts=alerts, clock=clock) if dead_letters else None
        )
        self.stats = stats if stats is not None else IngestStats()
        self._outages = outages if outages is not None else OutageLog()
        self.announcer = Announcer(
            writer, self.stats, self._outages, bus=bus, positions=positions, markets=markets,
            clock=clock, retry_s=state_retry_s, max_unpublished=max_unpublished,
        )  # fmt: skip
        self._clock = clock
        self._db_retry_s = db_retry_s
        self._commit_lock = asyncio.Lock()
        self.post_lock = asyncio.Lock()
        """Held while commits are projected and announced (:meth:`settle`); whatever must see
        the ledger and Redis as of a commit (the listener's position checks) runs under it."""
        # Commits whose projection and announcement are still owed, oldest first, numbered. A
        # batch's turn settles every one made up to the end of its own commit stage, so none is
        # left behind when the batch that made it fails or is cancelled before its turn.
        self._owed: list[tuple[int, Committed]] = []
        self._commits = 0
        self._db_failed_at: datetime | None = None
        # Per ledger table, the highest row id this recorder committed or read back: rows past it
        # were committed by another path (None until the first commit stage reads it).
        self._known: dict[str, int] | None = None

    # --- state ---------------------------------------------------------------------------------

    @property
    def database_up(self) -> bool:
        return self._db_failed_at is None

    @property
    def spooled(self) -> int:
        """Fills waiting in the spool for the database."""
        return self.spool.depth().records if self.spool is not None else 0

    @property
    def behind(self) -> bool:
        """The ledger lacks fills this recorder has taken (spooled, or the database is down):
        a venue snapshot compared with it now would be compared with the past."""
        return self.spooled > 0 or self._db_failed_at is not None

    # --- the path ------------------------------------------------------------------------------

    async def record(self, fills: Sequence[Fill]) -> RecordResult:
        """Commit (or spool), project and announce ``fills``; returns what the commit did."""
        result, upto = await self.commit(fills)
        async with self.post_lock:
            await self.settle(upto)
        return result

    async def commit(
        self, fills: Sequence[Fill], *, committed: Callable[[], None] | None = None
    ) -> tuple[RecordResult, int]:
        """The commit stage: replay the spool, then insert ``fills`` (or spool them). Returns the
        result and the ticket to :meth:`settle` up to. ``committed`` is called once the fills are
        durable (or the stage failed): from then on another batch may start its commit."""
        try:
            async with self._commit_lock:
                result = await self._fills(list(fills)) if fills else RecordResult()
                return result, self._commits
        finally:
            if committed is not None:
                committed()

    async def settle(self, upto: int) -> None:
        """Project and announce the commits numbered up to ``upto`` (the ticket from
        :meth:`commit`), oldest first. The caller holds :attr:`post_lock`."""
        self.announcer.prefetch_marks(
            {f.symbol for n, c in self._owed if n <= upto for f in c.inserted}
        )
        settled: list[Fill] = []
        while self._owed and self._owed[0][0] <= upto:
            _, done = self._owed.pop(0)
            new = self._note_commit(done)
            settled.extend(new)
            try:
                await self.writer.project(done)
            except asyncio.CancelledError:
                self.writer.owe(done)  # its rows are rebuilt from the ledger by the next one
                raise
            for fill in new:
                if fill.exec_type.is_forced:
                    await self._alert_forced(fill)
        await self.announcer.flush()
        if self.trades is not None and (settled or self.trades.owed):  # after the bus: no delay
            await self.trades.on_fills(settled)

    async def recover(self) -> None:
        """Retry what waits on a failed dependency: replay the spool, flush bus and state."""
        async with self._commit_lock:
            await self._drain(force=True)
            upto = self._commits
        async with self.post_lock:
            await self.settle(upto)

    # --- commit --------------------------------------------------------------------------------

    async def _fills(self, fills: list[Fill]) -> RecordResult:
        self.stats.fills_seen += len(fills)
        if not await self._drain(force=False):
            return await self._to_spool(fills)
        if self._known is None:
            try:
                self._known = dict(await self.writer.high_ids())
            except Exception as exc:
                self._db_down(exc)
                return await self._to_spool(fills)
        done: list[Committed] = []
        refused: list[Fill] = []
        try:
            await self._commit_isolating(fills, done, refused)
        except Exception as exc:  # the database (or its pooler) is unreachable: spool
            self._db_down(exc)
            settled = {k for part in done for k in part.result.inserted + part.result.duplicates}
            settled.update(f.key for f in refused)
            for part in done:  # committed before it went away: projected and announced as usual
                self._owe(part)
            rest = [f for f in fills if f.key not in settled]
            spooled = (await self._to_spool(rest)).spooled if rest else 0
            return _result(done, refused, spooled=spooled)
        for part in done:
            self._owe(part)
        result = _result(done, refused)
        if result.duplicates:
            await self._read_foreign()
        return result

    async def _read_foreign(self) -> None:
        """Offer the bus what other paths committed since this recorder last looked (a fill met
        as a duplicate may be one of them, stored by a path that never announced it)."""
        assert self._known is not None
        try:
            top = await self.writer.high_ids()
            if all(row_id <= self._known.get(table, 0) for table, row_id in top.items()):
                return
            rows = await self.writer.fills_after(dict(self._known))
        except Exception as exc:  # committed already; announced when next looked for
            if self._outages.first("foreign-read"):
                log.warning("cannot read what other paths stored: %s", exc)
            return
        self._outages.over("foreign-read")
        self._raise_known(top)
        if rows:
            self.announcer.offer(rows)

    async def _commit_isolating(
        self, fills: list[Fill], done: list[Committed], refused: list[Fill]
    ) -> None:
        """Commit ``fills`` (appended to ``done``); when the ledger refuses the batch, commit its
        halves, down to the single rows it refuses, which become dead letters (appended to
        ``refused``). Raises what is not a refusal (the database is unreachable); what was
        committed or refused by then is in the two lists."""
        try:
            done.append(await self.writer.commit(fills))
            return
        except LedgerRejected as exc:
            if len(fills) == 1:
                await self._dead_letter(fills[0], str(exc))
                refused.append(fills[0])
                return
        half = len(fills) // 2
        await self._commit_isolating(fills[:half], done, refused)
        await self._commit_isolating(fills[half:], done, refused)

    async def _dead_letter(self, fill: Fill, reason: str) -> None:
        """Set a refused fill aside, once, with an alert (the box does both)."""
        self.stats.dead_letters += 1
        raw = fill_payload(fill)
        if self.dead_letters is None:
            log.error("the ledger refused a fill and no dead-letter store is configured: %s: %s",
                      reason, raw)  # fmt: skip
            return
        letter = self.dead_letters.letter(
            "ledger", reason, raw, venue=fill.venue, account=fill.account
        )
        await self.dead_letters.put([letter])

    async def _to_spool(self, fills: list[Fill]) -> RecordResult:
        if self.spool is None:
            raise RuntimeError(
                "the ledger is unreachable and this recorder has no spool; nothing was recorded"
            )
        await asyncio.to_thread(self.spool.append, fills)  # raises SpoolFull: nothing written
        self.stats.spooled += len(fills)
        return RecordResult(spooled=len(fills))

    def _db_down(self, exc: BaseException) -> None:
        if self._db_failed_at is None:
            log.error("ledger write failed, spooling fills: %s: %s", type(exc).__name__, exc)
        self._db_failed_at = self._clock()

    async def _drain(self, *, force: bool) -> bool:
        """Replay the spool, oldest first; True when it is empty (new fills may go straight in).

        While the database is known down, retries at most every ``db_retry_s`` unless forced.
        """
        if self._db_failed_at is not None and not force:
            waited = (self._clock() - self._db_failed_at).total_seconds()
            if waited < self._db_retry_s:
                return False
        if self.spool is None or self.spool.depth().records == 0:
            self._db_failed_at = None
            return True
        replayed = 0
        for batch in self.spool.drain():
            done: list[Committed] = []
            try:
                await self._commit_isolating(list(batch.fills), done, [])
            except Exception as exc:
                self._db_down(exc)  # the batch stays spooled; what did commit replays as known
                return False
            finally:
                for part in done:
                    self._owe(part)
            batch.commit()
            replayed += len(batch.fills)
        self.stats.replayed += replayed
        if replayed:
            log.warning("ledger is back; spool replayed (%d fills)", replayed)
        self._db_failed_at = None
        return self.spool.depth().records == 0

    def _raise_known(self, marks: Mapping[str, int]) -> None:
        if self._known is not None:
            raise_marks(self._known, marks)

    def _owe(self, done: Committed) -> None:
        self._raise_known(done.result.high_ids)
        self._commits += 1
        self._owed.append((self._commits, done))

    # --- after the commit ----------------------------------------------------------------------

    def _note_commit(self, done: Committed) -> list[Fill]:
        """Count a commit and queue its new fills (each once, in fold order) for the bus and
        their position keys for the state store; returns those fills."""
        result = done.result
        self.stats.inserted += result.inserted_count
        self.stats.duplicates += result.duplicate_count
        if not result.inserted:
            return []
        new = in_fold_order(done.inserted)
        self.announcer.owe(new, result.high_ids)
        return new

    async def _alert_forced(self, fill: Fill) -> None:
        self.stats.forced += 1
        await raise_alert(
            self.alerts,
            Alert(
                kind="forced_fill",
                venue=fill.venue,
                account=fill.account,
                symbol=fill.symbol,
                message=f"{fill.exec_type.value} {fill.side.value} {fill.qty} "
                f"{fill.symbol} @ {fill.price} for {fill.bot_id}",
                at=fill.exec_time,
                details={"exec_id": fill.exec_id, "bot_id": fill.bot_id},
            ),
        )


def _result(
    done: Sequence[Committed], refused: Sequence[Fill], *, spooled: int = 0
) -> RecordResult:
    """What a batch's commits (its halves, when it was split) did, together."""
    return RecordResult(
        tuple(k for part in done for k in part.result.inserted),
        tuple(k for part in done for k in part.result.duplicates),
        spooled=spooled,
        rejected=len(refused),
    )
