"""The control facade's health questions: is the desk well, and does the ledger match the venue.

Each answer is read from what the desk already records: the listener's health snapshot, each
bot's sync windows (``trading.sync_status``), the command streams' lengths and pending entries.
The bus being down is itself an answer (a problem line), not an error. :meth:`DeskHealth.reconcile`
is the one read of the exchange, and it only shows differences, never repairs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from alphadesk.engine.control_commands import COMMAND_GROUP
from alphadesk.engine.control_names import find_bots
from alphadesk.engine.control_ports import (
    ControlLedger,
    HealthSource,
    ListenerSnapshot,
    SyncReader,
    VenueReconcile,
)
from alphadesk.engine.control_views import (
    CommandQueue,
    DifferenceView,
    HealthView,
    ListenerAccount,
    ListenerLine,
    ReconcileView,
    SyncLine,
)
from alphadesk.engine.state_ports import CommandStreams

_SYNC_ROWS = 20


@dataclass(frozen=True, slots=True)
class DeskHealth:
    """Health, sync and reconcile reads; the facade builds one from its ports."""

    ledger: ControlLedger
    commands: CommandStreams
    sync: SyncReader | None
    health_source: HealthSource | None
    venue: VenueReconcile | None
    clock: Callable[[], datetime]
    stale_after_s: float

    async def sync_line(self, bot_id: str) -> SyncLine:
        if self.sync is None:
            return SyncLine(None, None, 0, "")
        rows = await self.sync.recent(bot_id, _SYNC_ROWS)
        done = [r for r in rows if r.status == "completed" and r.sync_completed_at is not None]
        failed = [r for r in rows if r.status == "failed"]
        return SyncLine(
            last_sync=max((r.sync_completed_at for r in done if r.sync_completed_at), default=None),
            covered_until=max((r.end_time for r in done), default=None),
            recent_errors=len(failed),
            last_error=(failed[0].error_message or "") if failed else "",
        )

    async def listener(self, now: datetime) -> ListenerLine | None:
        if self.health_source is None:
            return None
        snapshot: ListenerSnapshot | None = await self.health_source.listener()
        if snapshot is None:
            return None
        age = (now - snapshot.at).total_seconds()
        problems = list(snapshot.problems)
        if age > self.stale_after_s:
            problems.append(f"listener health snapshot is {age:.0f} s old (is it running?)")
        return ListenerLine(
            at=snapshot.at,
            age_s=age,
            healthy=snapshot.healthy and age <= self.stale_after_s,
            problems=tuple(problems),
            accounts=tuple(
                ListenerAccount(
                    a.account,
                    a.connected,
                    a.last_message_age_s,
                    a.last_exec_time,
                    a.gap_fill_failures,
                )
                for a in snapshot.accounts
            ),
            spool_depth=max((a.spool_depth for a in snapshot.accounts), default=0),
            dead_letters=snapshot.dead_letters,
        )

    async def health(self) -> HealthView:
        now = self.clock()
        records = await self.ledger.bots()
        listener = await self.listener(now)
        problems: list[str] = list(listener.problems) if listener is not None else []
        sync = []
        for record in records:
            line = await self.sync_line(record.bot_id)
            sync.append((record.bot_id, line))
            if line.recent_errors:
                problems.append(
                    f"{record.bot_id}: sync failed {line.recent_errors} of the "
                    f"last windows ({line.last_error})"
                )
        queues: list[CommandQueue] = []
        bus_error = ""
        try:
            for record in records:
                stream = self.commands.commands(record.bot_id)
                queues.append(
                    CommandQueue(
                        record.bot_id,
                        await stream.length(),
                        await stream.pending_count(COMMAND_GROUP),
                    )
                )
        except Exception as exc:  # the bus (Redis) is down: say so, answer the rest
            bus_error = f"{type(exc).__name__}: {exc}"[:300]
            problems.append(f"event bus unreachable ({bus_error})")
        return HealthView(
            at=now,
            healthy=not problems and (listener is None or listener.healthy),
            problems=tuple(problems),
            listener=listener,
            sync=tuple(sync),
            spool_depth=listener.spool_depth if listener is not None else 0,
            dead_letters=listener.dead_letters if listener is not None else 0,
            bus_ok=not bus_error,
            bus_error=bus_error,
            commands=tuple(queues),
        )

    async def reconcile(self, bot: str | None) -> ReconcileView:
        """The ledger against the venue, read-only: differences are shown, nothing repaired."""
        records = await find_bots(self.ledger, bot)
        now = self.clock()
        if self.venue is None:
            return ReconcileView(
                now, False, "no venue reader: reconcile needs a bot with an API key", (), ()
            )
        reports = await self.venue.compare([r.bot_id for r in records])
        diffs = tuple(
            DifferenceView(d.kind.value, d.account, d.symbol, d.ref, d.ledger, d.venue)
            for report in reports
            for d in report.differences
        )
        note = "ledger and venue agree" if not diffs else f"{len(diffs)} differences"
        return ReconcileView(now, True, note, tuple(r.account for r in reports), diffs)
