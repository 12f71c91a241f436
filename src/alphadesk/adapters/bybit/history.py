"""Account history that Bybit serves in 7-day slices: executions and closed PnL.

``/v5/execution/list`` (and closed-pnl, order history) refuse a ``startTime..endTime`` span longer
than 7 days and return at most 100 rows a page. A backfill of any length therefore steps through
consecutive 7-day windows (inclusive bounds, no overlap, no gap) and follows ``nextPageCursor``
inside each. This is what the listener runs after every reconnect, so it must not miss a row:
windows are contiguous to the millisecond, and rows are de-duplicated by their ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.items import SkippedItem, each_row
from alphadesk.adapters.bybit.models import ClosedPnl
from alphadesk.adapters.bybit.parse import closed_pnl_from_info, fill_from_execution
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.domain.checks import from_epoch_ms, to_epoch_ms
from alphadesk.domain.enums import ExecType
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.engine.sync import Pressure, WindowRead

CATEGORY = "linear"
WINDOW_MS = 7 * 24 * 60 * 60 * 1000
PAGE = 100


def windows(start: datetime, end: datetime) -> Iterator[tuple[int, int]]:
    """Inclusive ``(start_ms, end_ms)`` windows, each spanning less than 7 days, covering all."""
    start_ms, end_ms = to_epoch_ms(start), to_epoch_ms(end)
    if end_ms < start_ms:
        raise InvalidField("history.end", end, f"is before start {start}")
    cursor = start_ms
    while cursor <= end_ms:
        window_end = min(cursor + WINDOW_MS - 1, end_ms)
        yield cursor, window_end
        cursor = window_end + 1


SkipHook = Callable[[Sequence[SkippedItem]], None]
T = TypeVar("T")


async def read_ahead(pages: AsyncIterator[T], depth: int) -> AsyncIterator[T]:
    """``pages`` fetched by a task up to ``depth`` pages ahead of the consumer, so the next
    request is on the wire while this page is decoded (the venue's answer time and ours
    overlap instead of adding up). Errors reach the consumer in order; closing the iterator
    (a consumer that stops early) stops the task; the queue bounds what is fetched meanwhile."""
    queue: asyncio.Queue[tuple[T | None, BaseException | None, bool]] = asyncio.Queue(depth)

    async def produce() -> None:
        try:
            async for page in pages:
                await queue.put((page, None, False))
        except Exception as exc:
            await queue.put((None, exc, True))
            return
        await queue.put((None, None, True))

    task = asyncio.ensure_future(produce())
    try:
        while True:
            page, error, done = await queue.get()
            if error is not None:
                raise error
            if done:
                return
            assert page is not None
            yield page
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class History:
    """``on_skipped`` also receives every row left out (with its raw JSON), e.g. for the
    listener's dead-letter store; rows are always counted and logged by the REST stats."""

    def __init__(
        self, rest: BybitRest, *, default_bot: str = UNKNOWN_BOT, on_skipped: SkipHook | None = None
    ) -> None:
        self._rest = rest
        self._default_bot = default_bot
        self.on_skipped = on_skipped

    async def iter_executions(
        self,
        start: datetime,
        end: datetime,
        *,
        symbol: str | None = None,
        exec_type: ExecType | None = None,
        page_size: int = PAGE,
        ahead: int = 0,
    ) -> AsyncIterator[list[Fill]]:
        """Pages of fills, window by window (each page as Bybit sent it: newest first).

        A row that cannot be read (an unknown ``execType``, a malformed number, a time past
        what a datetime holds: any error) is logged and counted in ``rest.stats.skipped_items``,
        handed to ``on_skipped`` and left out; the rest of its page is kept and the paging goes
        on past it, so one odd row cannot make the gap-fill of its window fail on every
        reconnect. Execution times more than a day past the venue's clock are refused.
        """
        account = self._rest.config.account
        now = from_epoch_ms("clock", self._rest.clock.now_ms())

        def fill(e: w.ExecutionInfo) -> Fill:
            return fill_from_execution(e, account, default_bot=self._default_bot, now=now)

        for window_start, window_end in windows(start, end):
            params: dict[str, Any] = {
                "category": CATEGORY,
                "startTime": window_start,
                "endTime": window_end,
                "limit": page_size,
            }
            if symbol:
                params["symbol"] = symbol
            if exec_type is not None:
                params["execType"] = exec_type.value
            raw = self._rest.pages(
                "privateGetV5ExecutionList",
                params,
                endpoint="/v5/execution/list",
                result_type=w.RawExecutionsResult,
                items=lambda r: r.list,
                cursor=lambda r: r.nextPageCursor,
            )
            async for page in read_ahead(raw, ahead) if ahead > 0 else raw:
                skipped: list[SkippedItem] = []
                fills = each_row(page, w.ExecutionInfo, "/v5/execution/list", fill, skipped)
                self._rest.stats.note_skipped(skipped)
                if skipped and self.on_skipped is not None:
                    self.on_skipped(skipped)
                if fills:
                    yield fills

    async def executions(
        self,
        start: datetime,
        end: datetime,
        *,
        symbol: str | None = None,
        exec_type: ExecType | None = None,
        page_size: int = PAGE,
        ahead: int = 0,
    ) -> list[Fill]:
        """Every execution in ``[start, end]``, oldest first, each once (``ahead``: pages
        fetched ahead of their decoding, see :func:`read_ahead`)."""
        found: dict[str, Fill] = {}
        pages = self.iter_executions(
            start, end, symbol=symbol, exec_type=exec_type, page_size=page_size, ahead=ahead
        )
        async for page in pages:
            for fill in page:
                found.setdefault(fill.exec_id, fill)
        return in_fold_order(found.values())

    async def closed_pnl(
        self,
        start: datetime,
        end: datetime,
        *,
        symbol: str | None = None,
        page_size: int = PAGE,
    ) -> list[ClosedPnl]:
        """Closed-PnL records in ``[start, end]``, oldest first, each once (by order id)."""
        found: dict[tuple[str, int], ClosedPnl] = {}
        for window_start, window_end in windows(start, end):
            params: dict[str, Any] = {
                "category": CATEGORY,
                "startTime": window_start,
                "endTime": window_end,
                "limit": page_size,
            }
            if symbol:
                params["symbol"] = symbol
            async for page in self._rest.pages(
                "privateGetV5PositionClosedPnl",
                params,
                endpoint="/v5/position/closed-pnl",
                result_type=w.ClosedPnlResult,
                items=lambda r: r.list,
                cursor=lambda r: r.nextPageCursor,
            ):
                for info in page:
                    record = closed_pnl_from_info(info)
                    found.setdefault((record.order_id, to_epoch_ms(record.updated_at)), record)
        return sorted(found.values(), key=lambda r: (r.created_at, r.order_id))


class SyncHistory:
    """:class:`alphadesk.engine.sync.HistorySource` on one bot's key: a window's executions
    (``category=linear``, trades and funding) and its closed-PnL records, through the client's
    rate gate and 10006 back-off (:class:`BybitRest`)."""

    def __init__(self, history: History, rest: BybitRest, *, page_size: int = PAGE) -> None:
        self._history = history
        self._rest = rest
        self._page_size = page_size

    async def read_window(self, start: datetime, end: datetime) -> WindowRead:
        # two endpoints, two limits: read side by side
        fills, closed = await asyncio.gather(
            self._history.executions(start, end, page_size=self._page_size, ahead=1),
            self._history.closed_pnl(start, end, page_size=self._page_size),
        )
        return WindowRead(fills, closed)

    def pressure(self) -> Pressure:
        stats = self._rest.stats
        return Pressure(requests=stats.calls, waits=stats.gate_waits + stats.rate_limited,
                        by_endpoint=dict(stats.by_endpoint))
