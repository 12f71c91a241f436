"""What the listener does with a batch of venue reports: ledger first, everything else after.

Order of work is the point of this module (invariants 1 and 3). Fills go to the fill writer,
which stores each (venue, account, exec_id) once; only what the commit says is *new* moves on, and
only after the commit returns: the projection (``FillWriter.project``), the bus (``events:fills``
then ``fills_channel``), and the live ``position:{bot}:{symbol}`` keys. That second stage runs
for every commit in commit order, and may overlap the next batch's commit. When the
database fails, the batch goes to the bounded on-disk spool instead and nothing is published;
while the spool holds anything, later batches queue behind it so the ledger sees fills in arrival
order, and the spool is replayed through the same path when the database answers again.

Redis (bus and state) is a cache: if it fails, the ledger keeps being written, the unpublished
fills and the touched position keys wait in memory, and they are flushed (or the positions
rebuilt from the ledger) when it returns. Nothing committed goes unannounced: each publish marks,
on its last stream entry and in the same atomic step, how far the ledger's rows have been
announced; a process that starts (or whose waiting list outgrew its bound) first announces what
the ledger holds past that mark, which covers a crash between a commit and its announcement.
A failure to read the ledger's position never counts as
"flat": a venue snapshot is then simply not checked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from alphadesk.domain.alerts import Alert
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import UNKNOWN_BOT, Fill, FillKey
from alphadesk.domain.positions import fold
from alphadesk.engine.ledger import Committed, FillWriter
from alphadesk.engine.ports import PositionRecord
from alphadesk.engine.state_ports import (
    EventBus,
    FillSpool,
    MarketStateStore,
    PositionState,
    PositionStore,
    SpoolFull,
)

log = logging.getLogger(__name__)

Report = Fill | OrderUpdated | PositionReported | WalletReported
PositionKey = tuple[str, str]
SymbolKey = tuple[str, str, str]  # venue, account, symbol


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlertSink(Protocol):
    async def alert(self, alert: Alert) -> None: ...


class OrderRecorder(Protocol):
    """``trading.orders``: upsert by order id, appending each new status to its history."""

    async def record_orders(self, updates: Sequence[OrderUpdated]) -> None: ...


class EquityRecorder(Protocol):
    """``trading.equity``: one snapshot per wallet report."""

    async def record_equity(self, reports: Sequence[WalletReported]) -> None: ...


@dataclass(slots=True)
class IngestStats:
    """Counters for health and tests; they only grow."""

    batches: int = 0
    fills_seen: int = 0
    inserted: int = 0
    duplicates: int = 0
    spooled: int = 0
    replayed: int = 0
    published: int = 0
    publish_failures: int = 0
    state_failures: int = 0
    malformed: int = 0
    unknown: int = 0
    forced: int = 0
    mismatches: int = 0
    unchecked_snapshots: int = 0
    orders: int = 0
    order_failures: int = 0
    equity: int = 0
    equity_failures: int = 0


@dataclass(frozen=True, slots=True)
class IngestResult:
    inserted: tuple[FillKey, ...] = ()
    duplicates: tuple[FillKey, ...] = ()
    spooled: int = 0


class Ingest:
    """The listener's core. One instance per process.

    A batch goes through two stages. The commit stage (spool replay, then the fills' insert)
    takes one batch at a time; the rest (projection, bus, live positions, position checks)
    follows under a second lock, for every commit in commit order. A caller may therefore start
    the next batch once :meth:`ingest` reports the commit (``committed``): its insert then
    overlaps the previous batch's projection and announcement instead of waiting behind them.

    ``account_bots`` names the bots trading on each (venue, account): a venue position snapshot
    is per account, so it is compared with the sum of those bots' ledger positions (plus the
    ``unknown`` bot, for fills the desk did not place). ``mismatch_grace_s`` lets a snapshot that
    overtook its own execution settle before a mismatch is raised (see :meth:`recheck`).
    """

    def __init__(
        self,
        writer: FillWriter,
        spool: FillSpool,
        *,
        bus: EventBus | None = None,
        positions: PositionStore | None = None,
        markets: MarketStateStore | None = None,
        alerts: AlertSink | None = None,
        orders: OrderRecorder | None = None,
        equity: EquityRecorder | None = None,
        account_bots: Mapping[tuple[str, str], Sequence[str]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        mismatch_grace_s: float = 0.0,
        db_retry_s: float = 1.0,
        state_retry_s: float = 1.0,
        max_unpublished: int = 100_000,
    ) -> None:
        self.writer = writer
        self.spool = spool
        self.bus = bus
        self.positions = positions
        self.markets = markets
        self.alerts = alerts
        self.orders = orders
        self.equity = equity
        self.stats = IngestStats()
        self._bots: dict[tuple[str, str], set[str]] = {
            k: {*v, UNKNOWN_BOT} for k, v in (account_bots or {}).items()
        }
        self._clock = clock
        self._grace_s = mismatch_grace_s
        self._db_retry_s = db_retry_s
        self._state_retry_s = state_retry_s
        self._state_failed_at: datetime | None = None
        self._max_unpublished = max_unpublished
        self._commit_lock = asyncio.Lock()
        self._post_lock = asyncio.Lock()
        # Commits whose projection and announcement are still owed, oldest first. Whoever holds
        # the post-commit lock next settles all of them, so none is left behind when the batch
        # that committed it fails or is cancelled before its turn.
        self._owed: list[Committed] = []
        self._db_failed_at: datetime | None = None
        self._unpublished: list[Fill] = []
        # How far the ledger has been committed (per table, highest row id), and whether the fills
        # a previous process committed but never announced have been looked for yet.
        self._high: dict[str, int] = {}
        self._caught_up = False
        self._dirty: set[PositionKey] = set()
        # A process that starts cannot know what a crashed one left half done (committed, not
        # yet in Redis), so the first flush rebuilds the live positions from the ledger.
        self._state_broken = positions is not None
        self._suspects: dict[SymbolKey, tuple[datetime, PositionReported]] = {}
        self._failing: set[str] = set()
        self.needs_reconcile: set[SymbolKey] = set()

    # --- public --------------------------------------------------------------------------------

    @property
    def database_up(self) -> bool:
        return self._db_failed_at is None

    @property
    def pending_state(self) -> int:
        """Fills not yet on the bus plus position keys not yet in the state store."""
        return len(self._unpublished) + len(self._dirty)

    def note_malformed(self, where: str, error: object) -> None:
        """A message the adapter could not parse: counted and logged, never fatal."""
        self.stats.malformed += 1
        log.error("malformed message in %s: %s", where, error)

    async def ingest(
        self, reports: Iterable[object], *, committed: Callable[[], None] | None = None
    ) -> IngestResult:
        """Process one batch (one WebSocket frame, one history page), in this order: fills,
        orders, wallets, position checks. Raises :class:`SpoolFull` only when the database is
        down and the spool is at its bound: the caller must stop acknowledging fills.

        ``committed`` is called once the batch's fills are durable (committed or spooled), or
        the commit stage failed: from then on another batch may start."""
        fills: list[Fill] = []
        orders: list[OrderUpdated] = []
        snapshots: list[PositionReported] = []
        wallets: list[WalletReported] = []
        for report in reports:
            if isinstance(report, Fill):
                fills.append(report)
            elif isinstance(report, OrderUpdated):
                orders.append(report)
            elif isinstance(report, PositionReported):
                snapshots.append(report)
            elif isinstance(report, WalletReported):
                wallets.append(report)
            else:
                self.stats.unknown += 1
                log.warning("ignored unknown report type %s", type(report).__name__)
        # Orders and equity go to their own tables over their own connections and never wait on
        # the ledger, so they are written while the fills commit.
        records = asyncio.gather(self._record(orders), self._record_equity(wallets))
        try:
            try:
                async with self._commit_lock:
                    self.stats.batches += 1
                    result = await self._fills(fills) if fills else IngestResult()
            finally:
                if committed is not None:
                    committed()
            # No await between the two locks: batches queue for the second in commit order.
            async with self._post_lock:
                await self._settle()
                await self._flush_state()
                latest = {(p.venue, p.account, p.symbol): p for p in snapshots}
                await self._check(list(latest.values()))  # only the newest view of each matters
        finally:
            await records
        return result

    async def recover(self) -> None:
        """Retry what waits on a failed dependency: replay the spool, flush bus and state."""
        async with self._commit_lock:
            await self._drain(force=True)
        async with self._post_lock:
            await self._settle()
            await self._flush_state()

    async def recheck(self) -> None:
        """Confirm or clear position mismatches older than the grace period."""
        async with self._post_lock:
            now = self._clock()
            due: list[PositionReported] = []
            for key, (seen, snapshot) in list(self._suspects.items()):
                if (now - seen).total_seconds() >= self._grace_s:
                    del self._suspects[key]
                    due.append(snapshot)
            await self._check(due, confirm=True)

    def take_reconcile(self) -> set[SymbolKey]:
        """The symbols marked for reconciliation since the last call."""
        marked, self.needs_reconcile = self.needs_reconcile, set()
        return marked

    # --- fills ---------------------------------------------------------------------------------

    async def _fills(self, fills: list[Fill]) -> IngestResult:
        self.stats.fills_seen += len(fills)
        for fill in fills:
            self._bots.setdefault((fill.venue, fill.account), {UNKNOWN_BOT}).add(fill.bot_id)
        if not await self._drain(force=False):
            return await self._to_spool(fills)
        try:
            done = await self.writer.commit(fills)
        except Exception as exc:  # the database (or its pooler) is unavailable: spool
            self._db_down(exc)
            return await self._to_spool(fills)
        self._owed.append(done)
        return IngestResult(done.result.inserted, done.result.duplicates)

    async def _to_spool(self, fills: list[Fill]) -> IngestResult:
        await asyncio.to_thread(self.spool.append, fills)  # raises SpoolFull: nothing written
        self.stats.spooled += len(fills)
        return IngestResult(spooled=len(fills))

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
        if self.spool.depth().records == 0:
            self._db_failed_at = None
            return True
        replayed = 0
        for batch in self.spool.drain():
            try:
                done = await self.writer.commit(batch.fills)
            except Exception as exc:
                self._db_down(exc)
                return False
            batch.commit()
            replayed += len(batch.fills)
            self._owed.append(done)
        self.stats.replayed += replayed
        if replayed:
            log.warning("ledger is back; spool replayed (%d fills)", replayed)
        self._db_failed_at = None
        return self.spool.depth().records == 0

    async def _settle(self) -> None:
        """Project and announce every owed commit, oldest first (the post-commit lock is held).

        What a commit owes the bus and the live positions is noted before anything is awaited,
        so a batch cancelled from here on still has its fills announced and its positions
        pushed by the next flush; a projection it did not finish is rebuilt by the next one."""
        while self._owed:
            done = self._owed.pop(0)
            new = self._note_commit(done)
            try:
                await self.writer.project(done)
            except asyncio.CancelledError:
                self.writer.owe(done)
                raise
            for fill in new:
                if fill.exec_type.is_forced:
                    await self._alert_forced(fill)

    def _note_commit(self, done: Committed) -> list[Fill]:
        """Count a commit and queue its new fills (each once, in fold order) for the bus and
        their position keys for the state store; returns those fills."""
        result = done.result
        self.stats.inserted += result.inserted_count
        self.stats.duplicates += result.duplicate_count
        if not result.inserted:
            return []
        new = sorted(done.inserted, key=lambda f: (f.exec_time, f.exec_id))
        for table, row_id in result.high_ids.items():
            self._high[table] = max(self._high.get(table, 0), row_id)
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
        return new

    async def _alert_forced(self, fill: Fill) -> None:
        self.stats.forced += 1
        await self._alert(
            Alert(
                kind="forced_fill",
                venue=fill.venue,
                account=fill.account,
                symbol=fill.symbol,
                message=f"{fill.exec_type.value} {fill.side.value} {fill.qty} "
                f"{fill.symbol} @ {fill.price} for {fill.bot_id}",
                at=fill.exec_time,
                details={"exec_id": fill.exec_id, "bot_id": fill.bot_id},
            )
        )

    # --- bus and state -------------------------------------------------------------------------

    async def _flush_state(self) -> None:
        """Announce committed fills and refresh positions; after a failure, retry at most every
        ``state_retry_s`` so a Redis outage costs one failed call a second, not one a frame."""
        if self._state_failed_at is not None:
            waited = (self._clock() - self._state_failed_at).total_seconds()
            if waited < self._state_retry_s:
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
        self._state_failed_at = None if ok else self._clock()

    async def _publish(self) -> bool:
        if self.bus is None:
            return True
        if not self._caught_up and not await self._catch_up():
            return False
        if not self._unpublished:
            return True
        batch = list(self._unpublished)
        try:
            await self.bus.publish_fills(batch, announced=dict(self._high) or None)
        except Exception as exc:
            self.stats.publish_failures += 1
            if self._quiet("bus"):
                log.warning("bus publish failed (%d fills wait): %s", len(batch), exc)
            return False
        self._failing.discard("bus")
        del self._unpublished[: len(batch)]
        self.stats.published += len(batch)
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
                marks = {t: announced.get(t, top) for t, top in stored.items()}
                missed = await self.writer.fills_after(marks)
        except Exception as exc:
            if self._quiet("catch-up"):
                log.warning("cannot look for unannounced fills yet: %s", exc)
            return False
        self._failing.discard("catch-up")
        waiting = {f.key for f in self._unpublished}
        missed = [f for f in missed if f.key not in waiting]
        if missed:
            log.warning("announcing %d fills committed but never announced", len(missed))
            self._unpublished[:0] = missed
        for table, top in stored.items():
            self._high[table] = max(self._high.get(table, 0), top)
        self._caught_up = True
        return True

    async def _push_positions(self, keys: list[PositionKey]) -> bool:
        assert self.positions is not None
        try:
            records = await self.writer.records(keys)
        except Exception as exc:
            if self._quiet("ledger-read"):
                log.warning("cannot read ledger positions: %s", exc)
            return False
        self._failing.discard("ledger-read")
        marks = await self._marks({r.position.symbol for r in records.values()})
        now = self._clock()
        states = [
            PositionState.from_position(
                r.position, seq=r.fill_count, updated_at=now,
                mark_price=marks.get(r.position.symbol),
            )
            for r in records.values()
        ]
        try:
            await self.positions.put_positions(states)
        except Exception as exc:
            self.stats.state_failures += 1
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
            self.stats.state_failures += 1
            if self._quiet("state"):
                log.warning("state store still unavailable: %s", exc)
            return False
        self._failing.discard("state")
        self._state_broken = False
        self._dirty.clear()
        if self.stats.state_failures:
            log.warning("state store is back; positions rebuilt from the ledger")
        else:
            log.info("live positions rebuilt from the ledger at start-up")
        return True

    async def _marks(self, symbols: set[str]) -> dict[str, Decimal]:
        if self.markets is None or not symbols:
            return {}
        try:
            return await self.markets.get_prices(sorted(symbols))
        except Exception:
            return {}

    async def _alert(self, alert: Alert) -> None:
        log.warning("ALERT %s %s/%s %s: %s", alert.kind, alert.venue, alert.account,
                    alert.symbol, alert.message)
        if self.alerts is None:
            return
        try:
            await self.alerts.alert(alert)
        except Exception as exc:
            log.error("alert delivery failed: %s", exc)

    # --- orders, equity, snapshots -------------------------------------------------------------

    async def _record(self, orders: list[OrderUpdated]) -> None:
        if self.orders is None or not orders:
            return
        try:
            await self.orders.record_orders(orders)
            self.stats.orders += len(orders)
        except Exception as exc:
            self.stats.order_failures += 1
            if self._quiet("orders"):
                log.warning("order updates not recorded (venue history has them): %s", exc)
        else:
            self._failing.discard("orders")

    async def _record_equity(self, wallets: list[WalletReported]) -> None:
        if self.equity is None or not wallets:
            return
        try:  # the recorder keeps one snapshot per bot and millisecond (the last one)
            await self.equity.record_equity(wallets)
            self.stats.equity += len(wallets)
        except Exception as exc:
            self.stats.equity_failures += 1
            if self._quiet("equity"):
                log.warning("equity snapshots not recorded: %s", exc)
        else:
            self._failing.discard("equity")

    def _quiet(self, what: str) -> bool:
        """True the first time ``what`` fails since it last worked: one log line per outage."""
        first = what not in self._failing
        self._failing.add(what)
        return first

    async def _check(self, snapshots: list[PositionReported], *, confirm: bool = False) -> None:
        """Compare venue snapshots with the ledger's positions, one ledger read for all."""
        if not snapshots:
            return
        if self.spool.depth().records or self._db_failed_at is not None:
            self.stats.unchecked_snapshots += len(snapshots)  # ledger behind: unknown, not flat
            return
        wanted = {
            (bot, s.symbol)
            for s in snapshots
            for bot in self._bots.get((s.venue, s.account), {UNKNOWN_BOT})
        }
        try:
            records = await self.writer.records(sorted(wanted))
        except Exception as exc:
            self.stats.unchecked_snapshots += len(snapshots)
            log.warning("position check of %d snapshots skipped, ledger unreadable: %s",
                        len(snapshots), exc)
            return
        for snapshot in snapshots:
            await self._compare(snapshot, records, confirm=confirm)

    async def _compare(
        self,
        snapshot: PositionReported,
        records: Mapping[PositionKey, PositionRecord],
        *,
        confirm: bool,
    ) -> None:
        key = (snapshot.venue, snapshot.account, snapshot.symbol)
        bots = self._bots.get((snapshot.venue, snapshot.account), {UNKNOWN_BOT})
        ours = sum(
            (records[b, snapshot.symbol].position.qty for b in bots if (b, snapshot.symbol)
             in records),
            Decimal(0),
        )
        if ours == snapshot.signed_size:
            self._suspects.pop(key, None)
            return
        if not confirm and self._grace_s > 0:
            self._suspects.setdefault(key, (self._clock(), snapshot))
            self._suspects[key] = (self._suspects[key][0], snapshot)
            return
        self.stats.mismatches += 1
        self.needs_reconcile.add(key)
        await self._alert(
            Alert(
                kind="position_mismatch",
                venue=snapshot.venue,
                account=snapshot.account,
                symbol=snapshot.symbol,
                message=f"venue {snapshot.signed_size} vs ledger {ours}",
                at=snapshot.updated_at,
                details={"venue_qty": str(snapshot.signed_size), "ledger_qty": str(ours)},
            )
        )

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
            PositionState.from_position(fold(bot_id, symbol, group), seq=len(group), updated_at=now)
            for symbol, group in symbols.items()
        ]
        await positions.replace_all_positions(bot_id, states)
        written[bot_id] = len(states)
    return written


__all__ = [
    "Alert",
    "AlertSink",
    "EquityRecorder",
    "Ingest",
    "IngestResult",
    "IngestStats",
    "OrderRecorder",
    "Report",
    "SpoolFull",
    "rebuild_positions",
]
