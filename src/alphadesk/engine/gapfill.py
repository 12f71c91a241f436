"""Invariant 2, no gaps: after every (re)connect and at start-up, ask the venue what we missed.

A WebSocket only delivers while it is connected, so whatever executed while it was down (or
while the listener was not running) is fetched from the venue's execution history, from a
*watermark* minus an overlap, to now. The watermark is the newest execution fetched by the last
gap-fill that completed: everything up to it is durably recorded (ledger or spool), and
everything after it is either recorded or fetched again. The ledger's newest execution is not
such a mark: a gap-fill can record newer executions while older live ones still wait to be
written, and a drop or a crash then leaves a hole below it. So with no watermark yet, the first
gap-fill looks back ``lookback`` (7 days) from the ledger's newest execution. The overlap covers
executions that reached the venue's history late; the fill writer drops everything already
recorded, so it costs only a few duplicate rows. Run periodically, the same gap-fill also
recovers a push lost on a socket that never dropped.

Pages go through :meth:`Ingest.ingest`, the same path as live fills, so a missed fill is
published, projected and spooled exactly like one that arrived in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from alphadesk.domain.fills import Fill
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ingest import Ingest

log = logging.getLogger(__name__)

DEFAULT_OVERLAP = timedelta(minutes=10)
#: With an empty ledger, how far back the first gap-fill looks (Bybit keeps two years; a
#: fresh desk has nothing older worth recording than its own first week).
DEFAULT_LOOKBACK = timedelta(days=7)


class Watermarks(Protocol):
    """Durable per-account marks: where the next gap-fill may start (minus the overlap)."""

    def get(self, account: str) -> datetime | None: ...

    def set(self, account: str, mark: datetime) -> None: ...


class MemoryWatermarks:
    """Marks kept only while the process runs: what a gap-filler given no durable store keeps,
    so that it never starts from the ledger's newest execution (see the module's docstring)."""

    def __init__(self) -> None:
        self._marks: dict[str, datetime] = {}

    def get(self, account: str) -> datetime | None:
        return self._marks.get(account)

    def set(self, account: str, mark: datetime) -> None:
        self._marks[account] = mark


class ExecutionHistory(Protocol):
    """The venue's execution history of one account (Bybit ``/v5/execution/list``)."""

    async def executions(self, start: datetime, end: datetime) -> list[Fill]: ...


@dataclass(frozen=True, slots=True)
class GapFillResult:
    account: str
    start: datetime
    end: datetime
    fetched: int
    inserted: int
    spooled: int


class GapFiller:
    """Runs one account's gap-fills, one at a time (a reconnect during a gap-fill queues)."""

    def __init__(
        self,
        ingest: Ingest,
        venue: str,
        account: str,
        history: ExecutionHistory,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        lookback: timedelta = DEFAULT_LOOKBACK,
        clock: Callable[[], datetime] = utc_now,
        page: int = 500,
        watermarks: Watermarks | None = None,
    ) -> None:
        self.ingest = ingest
        self.venue = venue
        self.account = account
        self.history = history
        self.overlap = overlap
        self.lookback = lookback
        self.page = page
        self.runs = 0
        self.failures = 0
        #: Failures since the last gap-fill that completed: health turns bad while this grows.
        self.consecutive_failures = 0
        self.last_error = ""
        self.last: GapFillResult | None = None
        self._clock = clock
        #: Without a durable store the marks live in memory: a restart then looks back
        #: ``lookback`` once, which is safe; starting from the ledger's newest is not.
        self._watermarks: Watermarks = MemoryWatermarks() if watermarks is None else watermarks
        self._lock = asyncio.Lock()

    async def since(self) -> datetime:
        """Where the next gap-fill starts: the watermark minus the overlap; without one yet,
        the ledger's newest execution minus the lookback."""
        now = self._clock()
        mark = self._watermarks.get(self.account)
        if mark is not None:
            return min(mark - self.overlap, now)
        last = await self.ingest.writer.last_exec_time(self.venue, self.account)
        if last is None:
            return now - self.lookback
        return min(last - self.lookback, now)

    async def run(self) -> GapFillResult:
        """Fetch ``[since, now]`` and write it; raises what the venue or the spool raise.

        Rows of the history that cannot be read cost only themselves (the adapter sets them
        aside): a page with one is still written and the watermark moves past it."""
        async with self._lock:
            self.runs += 1
            try:
                result = await self._run()
            except Exception as exc:
                self.failures += 1
                self.consecutive_failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                raise
            self.consecutive_failures = 0
            self.last_error = ""
            return result

    async def _run(self) -> GapFillResult:
        start = await self.since()
        end = self._clock()
        fills = await self.history.executions(start, end)
        inserted = spooled = 0
        for i in range(0, len(fills), self.page):
            result = await self.ingest.ingest(fills[i : i + self.page])
            inserted += len(result.inserted)
            spooled += result.spooled
        if fills:
            # All of [start, end] is durable now. The mark is the newest execution fetched
            # (<= end), on the venue's execution clock rather than ours.
            newest = max(f.exec_time for f in fills)
            previous = self._watermarks.get(self.account)
            if previous is None or newest > previous:
                self._watermarks.set(self.account, newest)
        self.last = GapFillResult(self.account, start, end, len(fills), inserted, spooled)
        if inserted:
            log.warning(
                "gap-fill %s: %d missed executions recorded (%d fetched since %s)",
                self.account, inserted, len(fills), start.isoformat(),
            )
        return self.last
