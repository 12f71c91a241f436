"""``alphadesk sync``: each bot's venue history, window by window, into the ledger.

The listener records what its sockets see and gap-fills what they missed from a watermark; a
sync walks a whole period (``backfill``) or carries on from where the last sync ended
(``incremental``), and writes through the same :class:`~alphadesk.engine.recorder.FillRecorder`
(the one entrance): a fill the listener already wrote is a duplicate at the commit and costs
nothing, and one the listener writes later is announced by whichever commits it, once.

Windows are fixed 7-day slices of the epoch (Bybit refuses a longer span), clipped to the
period. Each window is a row of ``trading.sync_status``: ``running`` when it starts,
``completed`` (with the rows it added) when its fills are committed. That row is the cursor: a
backfill skips every window a completed row covers, so one stopped any way (SIGKILL included)
resumes where it stopped and loses at most the window in flight, which is read again (the
ledger's insert-if-absent makes that harmless). The window that reaches now is never covered
(its end moves), so a second backfill re-reads only that one.

Pure of I/O beyond its ports: the history source, the recorder, the status store, a clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ports import RoundTripStore
from alphadesk.engine.recorder import RecordResult
from alphadesk.engine.round_trips import ClosedPnlRecord, attach_closed_pnl

log = logging.getLogger(__name__)

WINDOW = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
#: ``sync_type`` of the rows (the seed's vocabulary): a backfill, and the scheduled run.
BACKFILL = "backfill"
INCREMENTAL = "hourly"
#: How far an incremental sync reaches back before its cursor (late rows of the venue's history).
DEFAULT_OVERLAP = timedelta(minutes=10)
#: An account's first incremental sync, with no cursor yet, looks back this far.
DEFAULT_LOOKBACK = timedelta(days=7)
#: Fills per recorder batch.
BATCH = 500


@dataclass(frozen=True, slots=True)
class WindowRead:
    """One window of an account's history: its executions (trades and funding, each once,
    oldest first) and the closed-PnL records the venue holds for it."""

    fills: Sequence[Fill]
    records: Sequence[ClosedPnlRecord] = ()

    @property
    def closed_pnl(self) -> int:
        return len(self.records)


@dataclass(frozen=True, slots=True)
class Pressure:
    """What an account's client did about the venue's limits: requests sent and rate-limit
    waits (the gate's waits for an exhausted window and 10006 back-offs)."""

    requests: int = 0
    waits: int = 0
    by_endpoint: Mapping[str, int] = field(default_factory=dict)
    """Requests sent per venue endpoint (each has its own limit)."""


class HistorySource(Protocol):
    """One account's venue history (Bybit: ``/v5/execution/list`` and ``/v5/position/closed-pnl``
    with that bot's own key); a window is at most 7 days."""

    async def read_window(self, start: datetime, end: datetime) -> WindowRead: ...

    def pressure(self) -> Pressure: ...


class FillSink(Protocol):
    """The one entrance (:class:`~alphadesk.engine.recorder.FillRecorder`)."""

    async def record(self, fills: Sequence[Fill]) -> RecordResult: ...


@dataclass(frozen=True, slots=True)
class SyncRow:
    """One row of ``trading.sync_status``."""

    id: int
    bot_id: str
    sync_type: str
    start_time: datetime
    end_time: datetime
    trades_synced: int
    status: str
    error_message: str | None
    sync_started_at: datetime
    sync_completed_at: datetime | None


class SyncStatusStore(Protocol):
    """``trading.sync_status``: one row per (bot, type, window)."""

    async def begin(self, bot_id: str, sync_type: str, start: datetime, end: datetime,
                    at: datetime) -> int:
        """Upsert the window's row as ``running``; returns its id."""
        ...

    async def finish(self, row_id: int, *, status: str, added: int, error: str | None,
                     at: datetime, duration_s: float) -> None: ...

    async def completed(self, bot_id: str) -> list[tuple[datetime, datetime]]:
        """The windows of completed rows of any type, as (start, end)."""
        ...

    async def abandon_running(self, bot_id: str, at: datetime) -> int:
        """Mark rows left ``running`` by a process that stopped as ``partial``; returns how many."""
        ...

    async def recent(self, bot_id: str, limit: int) -> list[SyncRow]: ...


@dataclass(frozen=True, slots=True)
class SyncAccount:
    bot_id: str
    source: HistorySource


@dataclass(slots=True)
class AccountTotals:
    """Running totals of one account's sync, read by a progress display while it runs."""

    bot_id: str
    windows: int = 0
    windows_done: int = 0
    windows_skipped: int = 0
    fetched: int = 0
    added: int = 0
    closed_pnl: int = 0
    pnl_matched: int = 0
    """Closed-PnL records set beside the ledger's round trips of the same close."""
    pnl_unmatched: int = 0
    """Records no round trip matched by the end (another bot's, or a close not in the ledger)."""
    errors: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    covered_to: datetime | None = None


class Progress(Protocol):
    def on_window(self, totals: AccountTotals, start: datetime, end: datetime) -> None: ...


def window_of(at: datetime) -> datetime:
    """The start of the fixed 7-day window holding ``at``."""
    index = (at - _EPOCH) // WINDOW
    return _EPOCH + index * WINDOW


def plan(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Inclusive windows covering ``[start, end]``: fixed 7-day slices of the epoch, clipped, to
    the millisecond (Bybit's bounds are inclusive ms)."""
    if end < start:
        raise InvalidField("sync.end", end.isoformat(), f"is before start {start.isoformat()}")
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor <= end:
        window_end = min(window_of(cursor) + WINDOW - _MS, end)
        out.append((cursor, window_end))
        cursor = window_end + _MS
    return out


def covered(window: tuple[datetime, datetime], done: Sequence[tuple[datetime, datetime]]) -> bool:
    start, end = window
    return any(s <= start and end <= e for s, e in done)


class Syncer:
    """Runs the syncs of several accounts at once (each on its own key and limits)."""

    def __init__(
        self,
        recorder: FillSink,
        status: SyncStatusStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        progress: Progress | None = None,
        round_trips: RoundTripStore | None = None,
    ) -> None:
        self._recorder = recorder
        self._status = status
        self._round_trips = round_trips
        """Where the venue's closed PnL is set beside the round trips (None: not attached)."""
        self._clock = clock
        self._progress = progress

    async def backfill(self, accounts: Sequence[SyncAccount], start: datetime,
                       end: datetime) -> list[AccountTotals]:
        """Every window of ``[start, end]`` not yet completed, for every account."""
        return await asyncio.gather(*(self._backfill(a, start, end) for a in accounts))

    async def incremental(self, accounts: Sequence[SyncAccount], *,
                          overlap: timedelta = DEFAULT_OVERLAP,
                          lookback: timedelta = DEFAULT_LOOKBACK) -> list[AccountTotals]:
        """From each account's cursor (the newest end of its completed rows) less ``overlap``,
        to now; ``lookback`` before now for an account never synced."""
        return await asyncio.gather(
            *(self._incremental(a, overlap, lookback) for a in accounts)
        )

    async def _backfill(self, account: SyncAccount, start: datetime,
                        end: datetime) -> AccountTotals:
        totals = AccountTotals(account.bot_id, start=start, end=end)
        await self._status.abandon_running(account.bot_id, self._clock())
        done = await self._status.completed(account.bot_id)
        windows = plan(start, end)
        todo = [w for w in windows if not covered(w, done)]
        totals.windows = len(windows)
        totals.windows_skipped = len(windows) - len(todo)
        await self._run(account, BACKFILL, todo, totals)
        return totals

    async def _incremental(self, account: SyncAccount, overlap: timedelta,
                           lookback: timedelta) -> AccountTotals:
        now = self._clock()
        await self._status.abandon_running(account.bot_id, now)
        done = await self._status.completed(account.bot_id)
        cursor = max((e for _, e in done), default=None)
        start = now - lookback if cursor is None else min(cursor - overlap, now)
        totals = AccountTotals(account.bot_id, start=start, end=now)
        windows = plan(start, now)
        totals.windows = len(windows)
        await self._run(account, INCREMENTAL, windows, totals)
        return totals

    async def _run(self, account: SyncAccount, sync_type: str,
                   windows: Sequence[tuple[datetime, datetime]], totals: AccountTotals) -> None:
        """Oldest window first; the account stops at its first failed window (the next run
        starts again there), the other accounts go on.

        The next window is read while this one is recorded (two in flight at most): the
        venue's limits, not the ledger's commits, should set the pace."""
        ahead: _Read | None = None
        pending: list[ClosedPnlRecord] = []  # records whose round trip may close in a later window
        try:
            for n, (start, end) in enumerate(windows):
                current = ahead or await self._start_read(account, sync_type, start, end)
                ahead = None
                try:
                    read = await current.task
                except Exception as exc:
                    await self._failed(account, totals, current, exc)
                    return
                if n + 1 < len(windows):
                    ahead = await self._start_read(account, sync_type, *windows[n + 1])
                try:
                    added = 0
                    fills = list(read.fills)
                    for i in range(0, len(fills), BATCH):
                        result = await self._recorder.record(fills[i : i + BATCH])
                        added += len(result.inserted) + result.spooled
                    pending = await self._attach(account, [*pending, *read.records], totals)
                except Exception as exc:
                    await self._failed(account, totals, current, exc)
                    return
                await self._status.finish(current.row, status="completed", added=added,
                                          error=None, at=self._clock(),
                                          duration_s=time.monotonic() - current.began)
                totals.windows_done += 1
                totals.fetched += len(fills)
                totals.added += added
                totals.closed_pnl += read.closed_pnl
                totals.covered_to = end
                if self._progress is not None:
                    self._progress.on_window(totals, start, end)
        finally:
            totals.pnl_unmatched = len(pending)
            if ahead is not None:  # stopped before its turn: its row says so
                ahead.task.cancel()
                await asyncio.gather(ahead.task, return_exceptions=True)
                await self._status.finish(ahead.row, status="partial", added=0,
                                          error="not recorded: an earlier window failed",
                                          at=self._clock(),
                                          duration_s=time.monotonic() - ahead.began)

    async def _attach(self, account: SyncAccount, records: list[ClosedPnlRecord],
                      totals: AccountTotals) -> list[ClosedPnlRecord]:
        """Set the window's closed-PnL records beside the round trips the recorder's keeper just
        wrote (before the window's row completes, so a stopped sync attaches them on its
        resume); returns the records nothing matched yet, to try again after the next window."""
        if self._round_trips is None or not records:
            return []
        done = await attach_closed_pnl(self._round_trips, account.bot_id, records)
        totals.pnl_matched += done.matched
        missing = set(done.unmatched)
        return [r for r in records if r.order_id in missing]

    async def _start_read(self, account: SyncAccount, sync_type: str, start: datetime,
                          end: datetime) -> _Read:
        row = await self._status.begin(account.bot_id, sync_type, start, end, self._clock())
        task = asyncio.ensure_future(account.source.read_window(start, end))
        return _Read(row, time.monotonic(), task)

    async def _failed(self, account: SyncAccount, totals: AccountTotals, read: _Read,
                      exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        totals.errors.append(message)
        log.warning("sync %s: a window failed: %s", account.bot_id, message)
        await self._status.finish(read.row, status="failed", added=0, error=message[:500],
                                  at=self._clock(), duration_s=time.monotonic() - read.began)


@dataclass(slots=True)
class _Read:
    """A window whose row is ``running`` and whose read is under way."""

    row: int
    began: float
    task: asyncio.Future[WindowRead]
