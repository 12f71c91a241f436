"""What the listener does with a batch of venue reports: ledger first, everything else after.

Fills enter through the one entrance, :class:`~alphadesk.engine.recorder.FillRecorder` (commit,
then projection and announcement, in commit order; the spool while the database is unreachable;
dead letters for rows it refuses). This module adds the rest of a frame: order records, equity
snapshots, and the venue's position snapshots checked against the ledger
(:mod:`alphadesk.engine.position_checks`: a ledger that cannot be read, or is behind, never counts
as "flat": the snapshot is then simply not checked), each after the batch's commit, under the
recorder's post-commit lock, so a check sees the ledger and Redis as of that commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from alphadesk.domain.alerts import Alert
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill
from alphadesk.engine.alerting import AlertSink, OutageLog
from alphadesk.engine.announcer import Announcer, rebuild_positions
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.position_checks import PositionChecks, SymbolKey
from alphadesk.engine.recorder import FillRecorder, RecordResult
from alphadesk.engine.state_ports import (
    DeadLetterStore,
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


IngestResult = RecordResult


class Ingest:
    """The listener's core. One instance per process.

    A batch goes through two stages. The commit stage (the recorder's: spool replay, then the
    fills' insert) takes one batch at a time; the rest (projection, bus, live positions, position
    checks) follows under the recorder's post-commit lock, for every commit in commit order. A
    caller may therefore start the next batch once :meth:`ingest` reports the commit
    (``committed``): its insert then overlaps the previous batch's projection and announcement.

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
        dead_letters: DeadLetterStore | None = None,
        account_bots: Mapping[tuple[str, str], Sequence[str]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        mismatch_grace_s: float = 0.0,
        db_retry_s: float = 1.0,
        state_retry_s: float = 1.0,
        max_unpublished: int = 100_000,
    ) -> None:
        self.orders = orders
        self.equity = equity
        self.stats = IngestStats()
        self._outages = OutageLog()
        self.recorder = FillRecorder(
            writer, spool, bus=bus, positions=positions, markets=markets, alerts=alerts,
            dead_letters=dead_letters, stats=self.stats, outages=self._outages, clock=clock,
            db_retry_s=db_retry_s, state_retry_s=state_retry_s, max_unpublished=max_unpublished,
        )  # fmt: skip
        self.spool = spool
        self.checks = PositionChecks(
            writer, self.stats, account_bots=account_bots, clock=clock,
            grace_s=mismatch_grace_s, alerts=alerts,
        )  # fmt: skip
        self._clock = clock
        # With two batches in flight their records would race; each kind is written in batch
        # order (a lock's waiters go first come, first served), so of two wallet reports of one
        # millisecond the later one stays, as within a batch.
        self._orders_lock = asyncio.Lock()
        self._equity_lock = asyncio.Lock()

    # --- public --------------------------------------------------------------------------------

    @property
    def writer(self) -> FillWriter:
        return self.recorder.writer

    @property
    def announcer(self) -> Announcer:
        return self.recorder.announcer

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
        return self.recorder.database_up

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
        for fill in fills:
            self.checks.trades(fill.venue, fill.account, fill.bot_id)
        # Orders and equity go to their own tables over their own connections and never wait on
        # the ledger, so they are written while the fills commit.
        records = asyncio.gather(self._record(orders), self._record_equity(wallets))
        try:
            self.stats.batches += 1
            result, upto = await self.recorder.commit(fills, committed=committed)
            # No await between the two stages: batches queue for the second in commit order.
            async with self.recorder.post_lock:
                await self.recorder.settle(upto)
                latest = {(p.venue, p.account, p.symbol): p for p in snapshots}
                await self._check(list(latest.values()))  # only the newest view of each matters
        finally:
            await records
        return result

    async def recover(self) -> None:
        """Retry what waits on a failed dependency: replay the spool, flush bus and state."""
        await self.recorder.recover()

    async def venue_positions(
        self, venue: str, account: str, snapshots: Sequence[PositionReported]
    ) -> None:
        """The account's positions as the venue lists them now (REST, after a gap-fill): they
        replace whatever was suspected from pushes before, and are checked like a push."""
        async with self.recorder.post_lock:
            self.checks.forget_account(venue, account)
            await self._check(list(snapshots))

    async def recheck(self) -> None:
        """Confirm or clear position mismatches older than the grace period."""
        async with self.recorder.post_lock:
            await self._check(self.checks.due(), confirm=True)

    def take_reconcile(self) -> set[SymbolKey]:
        """The symbols marked for reconciliation since the last call."""
        return self.checks.take_reconcile()

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
        if self.recorder.behind:
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
