"""Venue position snapshots checked against the ledger's positions.

A snapshot is per account, and several bots may trade one account, so it is compared with the sum
of those bots' ledger positions (plus the ``unknown`` bot, for fills the desk did not place). A
snapshot can overtake its own execution: with a grace period, a mismatch first becomes a suspect,
and only one still wrong when :meth:`PositionChecks.due` hands it back is confirmed. A confirmed
mismatch raises an alert and marks the symbol for reconciliation. The caller never checks against
a ledger it knows to be behind: unknown is not flat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from alphadesk.domain.alerts import Alert
from alphadesk.domain.events import PositionReported
from alphadesk.domain.fills import UNKNOWN_BOT
from alphadesk.engine.alerting import AlertSink, raise_alert
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import PositionRecord

log = logging.getLogger(__name__)

PositionKey = tuple[str, str]
SymbolKey = tuple[str, str, str]  # venue, account, symbol


class PositionChecks:
    def __init__(
        self,
        writer: FillWriter,
        stats: IngestStats,
        *,
        account_bots: Mapping[tuple[str, str], Sequence[str]] | None,
        clock: Callable[[], datetime],
        grace_s: float,
        alerts: AlertSink | None,
    ) -> None:
        self._writer = writer
        self._stats = stats
        self._bots: dict[tuple[str, str], set[str]] = {
            k: {*v, UNKNOWN_BOT} for k, v in (account_bots or {}).items()
        }
        self._clock = clock
        self._grace_s = grace_s
        self.alerts = alerts
        self._suspects: dict[SymbolKey, tuple[datetime, PositionReported]] = {}
        self.needs_reconcile: set[SymbolKey] = set()

    def trades(self, venue: str, account: str, bot_id: str) -> None:
        """``bot_id`` trades on (venue, account): its position is part of the account's."""
        self._bots.setdefault((venue, account), {UNKNOWN_BOT}).add(bot_id)

    def due(self) -> list[PositionReported]:
        """The suspects whose grace period is over, to be checked again with ``confirm``."""
        now = self._clock()
        due: list[PositionReported] = []
        for key, (seen, snapshot) in list(self._suspects.items()):
            if (now - seen).total_seconds() >= self._grace_s:
                del self._suspects[key]
                due.append(snapshot)
        return due

    def forget_account(self, venue: str, account: str) -> None:
        """Drop the account's suspects. For a fresh full view of the account
        (after a reconnect): a suspect's snapshot may be one a later push, lost with the socket,
        would have replaced, and checked again it would confirm a mismatch that is not there."""
        stale = [k for k in self._suspects if k[0] == venue and k[1] == account]
        for key in stale:
            del self._suspects[key]

    def take_reconcile(self) -> set[SymbolKey]:
        """The symbols marked for reconciliation since the last call."""
        marked, self.needs_reconcile = self.needs_reconcile, set()
        return marked

    async def check(self, snapshots: list[PositionReported], *, confirm: bool = False) -> None:
        """Compare venue snapshots with the ledger's positions, one ledger read for all."""
        if not snapshots:
            return
        wanted = {
            (bot, s.symbol)
            for s in snapshots
            for bot in self._bots.get((s.venue, s.account), {UNKNOWN_BOT})
        }
        try:
            records = await self._writer.records(sorted(wanted))
        except Exception as exc:
            self._stats.unchecked_snapshots += len(snapshots)
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
        self._stats.mismatches += 1
        self.needs_reconcile.add(key)
        await raise_alert(
            self.alerts,
            Alert(
                kind="position_mismatch",
                venue=snapshot.venue,
                account=snapshot.account,
                symbol=snapshot.symbol,
                message=f"venue {snapshot.signed_size} vs ledger {ours}",
                at=snapshot.updated_at,
                details={"venue_qty": str(snapshot.signed_size), "ledger_qty": str(ours)},
            ),
        )
