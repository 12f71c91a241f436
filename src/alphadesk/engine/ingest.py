"""What the listener does with a batch of venue reports: ledger first, everything else after.

Order of work is the point of this module (invariants 1 and 3). Fills go to the fill writer,
which stores each (venue, account, exec_id) once; only what the commit says is *new* moves on, and
only after the commit returns: the projection (``FillWriter.project``), the bus (``events:fills``
then ``fills_channel``), and the live ``position:{bot}:{symbol}`` keys. That second stage runs
for every commit in commit order, and may overlap the next batch's commit. When the
database fails, the batch goes to the bounded on-disk spool instead and nothing is published;
while the spool holds anything, later batches queue behind it so the ledger sees fills in arrival
order, and the spool is replayed through the same path when the database answers again.

The parts after the commit have modules of their own: :mod:`alphadesk.engine.announcer` (the bus
and the live positions; Redis is a cache there) and :mod:`alphadesk.engine.position_checks`
(venue snapshots against the ledger; a ledger that cannot be read, or is behind, never counts as
"flat": the snapshot is then simply not checked).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from alphadesk.domain.alerts import Alert
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.engine.alerting import AlertSink, OutageLog, raise_alert
from alphadesk.engine.announcer import Announcer, rebuild_positions
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.engine.ledger import Committed, FillWriter
from alphadesk.engine.position_checks import PositionChecks, SymbolKey
from alphadesk.engine.state_ports import (
    EventBus,
    FillSpool,
    MarketStateStore,
    PositionStore,
    SpoolFull,
)

log = logging.getLogger(__name__)

Report = Fill | OrderUpdated | PositionReported | WalletReported


class OrderRecorder(Protocol):
    """``trading.orders``: upsert by order id, appending each new status to its history."""

    async def record_orders(self, updates: Sequence[OrderUpdated]) -> None: ...


class EquityRecorder(Protocol):
    """``trading.equity``: one snapshot per wallet report."""

    async def record_equity(self, reports: Sequence[WalletReported]) -> None: ...


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
        self.orders = orders
        self.equity = equity
        self.stats = IngestStats()
        self._outages = OutageLog()
        self.announcer = Announcer(
            writer, self.stats, self._outages, bus=bus, positions=positions, markets=markets,
            clock=clock, retry_s=state_retry_s, max_unpublished=max_unpublished,
        )  # fmt: skip
        self.checks = PositionChecks(
            writer, self.stats, account_bots=account_bots, clock=clock,
            grace_s=mismatch_grace_s, alerts=alerts,
        )  # fmt: skip
        self._clock = clock
        self._db_retry_s = db_retry_s
        self._commit_lock = asyncio.Lock()
        self._post_lock = asyncio.Lock()
        # With two batches in flight their records would race; each kind is written in batch
        # order (a lock's waiters go first come, first served), so of two wallet reports of one
        # millisecond the later one stays, as within a batch.
        self._orders_lock = asyncio.Lock()
        self._equity_lock = asyncio.Lock()
        # Commits whose projection and announcement are still owed, oldest first, numbered. A
        # batch's turn settles every one made up to the end of its own commit stage, so none is
        # left behind when the batch that made it fails or is cancelled before its turn, and its
        # position snapshots are checked against the ledger as it stood, not against the next
        # batch's fills.
        self._owed: list[tuple[int, Committed]] = []
        self._commits = 0
        self._db_failed_at: datetime | None = None

    # --- public --------------------------------------------------------------------------------

    @property
    def bus(self) -> EventBus | None:
        return self.announcer.bus

    @bus.setter
    def bus(self, bus: EventBus | None) -> None:
        self.announcer.bus = bus

    @property
    def positions(self) -> PositionStore | None:
        return self.announcer.positions

    @property
    def alerts(self) -> AlertSink | None:
        return self.checks.alerts

    @property
    def needs_reconcile(self) -> set[SymbolKey]:
        return self.checks.needs_reconcile

    @property
    def database_up(self) -> bool:
        return self._db_failed_at is None

    @property
    def pending_state(self) -> int:
        """Fills not yet on the bus plus position keys not yet in the state store."""
        return self.announcer.pending

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
                    upto = self._commits
            finally:
                if committed is not None:
                    committed()
            # No await between the two locks: batches queue for the second in commit order.
            async with self._post_lock:
                self.announcer.prefetch_marks(
                    {f.symbol for n, c in self._owed if n <= upto for f in c.inserted}
                )
                await self._settle(upto)
                await self.announcer.flush()
                latest = {(p.venue, p.account, p.symbol): p for p in snapshots}
                await self._check(list(latest.values()))  # only the newest view of each matters
        finally:
            await records
        return result

    async def recover(self) -> None:
        """Retry what waits on a failed dependency: replay the spool, flush bus and state."""
        async with self._commit_lock:
            await self._drain(force=True)
            upto = self._commits
        async with self._post_lock:
            await self._settle(upto)
            await self.announcer.flush()

    async def venue_positions(
        self, venue: str, account: str, snapshots: Sequence[PositionReported]
    ) -> None:
        """The account's positions as the venue lists them now (REST, after a gap-fill): they
        replace whatever was suspected from pushes before, and are checked like a push."""
        async with self._post_lock:
            self.checks.forget_account(venue, account)
            await self._check(list(snapshots))

    async def recheck(self) -> None:
        """Confirm or clear position mismatches older than the grace period."""
        async with self._post_lock:
            await self._check(self.checks.due(), confirm=True)

    def take_reconcile(self) -> set[SymbolKey]:
        """The symbols marked for reconciliation since the last call."""
        return self.checks.take_reconcile()

    # --- fills ---------------------------------------------------------------------------------

    async def _fills(self, fills: list[Fill]) -> IngestResult:
        self.stats.fills_seen += len(fills)
        for fill in fills:
            self.checks.trades(fill.venue, fill.account, fill.bot_id)
        if not await self._drain(force=False):
            return await self._to_spool(fills)
        try:
            done = await self.writer.commit(fills)
        except Exception as exc:  # the database (or its pooler) is unavailable: spool
            self._db_down(exc)
            return await self._to_spool(fills)
        self._owe(done)
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
            self._owe(done)
        self.stats.replayed += replayed
        if replayed:
            log.warning("ledger is back; spool replayed (%d fills)", replayed)
        self._db_failed_at = None
        return self.spool.depth().records == 0

    def _owe(self, done: Committed) -> None:
        self._commits += 1
        self._owed.append((self._commits, done))

    async def _settle(self, upto: int) -> None:
        """Project and announce the owed commits numbered up to ``upto``, oldest first (the
        post-commit lock is held).

        What a commit owes the bus and the live positions is noted before anything is awaited,
        so a batch cancelled from here on still has its fills announced and its positions
        pushed by the next flush; a projection it did not finish is rebuilt by the next one."""
        while self._owed and self._owed[0][0] <= upto:
            _, done = self._owed.pop(0)
            new = self._note_commit(done)
            try:
                await self.writer.project(done)
            except asyncio.CancelledError:
                self.writer.owe(done)  # its rows are rebuilt from the ledger by the next one
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

    # --- orders, equity, snapshots -------------------------------------------------------------

    async def _record(self, orders: list[OrderUpdated]) -> None:
        if self.orders is None or not orders:
            return
        try:
            async with self._orders_lock:
                await self.orders.record_orders(orders)
            self.stats.orders += len(orders)
        except Exception as exc:
            self.stats.order_failures += 1
            if self._outages.first("orders"):
                log.warning("order updates not recorded (venue history has them): %s", exc)
        else:
            self._outages.over("orders")

    async def _record_equity(self, wallets: list[WalletReported]) -> None:
        if self.equity is None or not wallets:
            return
        try:  # the recorder keeps one snapshot per bot and millisecond (the last one)
            async with self._equity_lock:
                await self.equity.record_equity(wallets)
            self.stats.equity += len(wallets)
        except Exception as exc:
            self.stats.equity_failures += 1
            if self._outages.first("equity"):
                log.warning("equity snapshots not recorded: %s", exc)
        else:
            self._outages.over("equity")

    async def _check(self, snapshots: list[PositionReported], *, confirm: bool = False) -> None:
        if not snapshots:
            return
        if self.spool.depth().records or self._db_failed_at is not None:
            self.stats.unchecked_snapshots += len(snapshots)  # ledger behind: unknown, not flat
            return
        await self.checks.check(snapshots, confirm=confirm)


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
    "utc_now",
]
