"""The event bus in process, with Redis Streams' consumer-group semantics.

Entries get Redis-shaped ids (``<ms>-<seq>``); a group starts at the beginning of the stream; an
entry read with ``>`` stays pending for its consumer until acked, is read again by that consumer
with ``pending=True``, and can be claimed by another after ``min_idle_ms``. The stream is trimmed
to about ``maxlen`` like ``XADD MAXLEN ~``. Notifications go to the subscribers present at
publish time only, as Redis pub/sub does.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from alphadesk.domain.alerts import Alert
from alphadesk.domain.bars import Bar
from alphadesk.domain.commands import ControlCommand
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.engine.state_ports import (
    ANNOUNCED_KEEP,
    COMMANDS_MAXLEN,
    STREAM_MAXLEN,
    Delivery,
    check_key_part,
    raise_marks,
)

T = TypeVar("T")
EntryId = tuple[int, int]


def _format(entry_id: EntryId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def _parse(field_name: str, text: str) -> EntryId:
    try:
        ms, seq = text.split("-")
        return int(ms), int(seq)
    except ValueError:
        raise InvalidField(field_name, text, "must be a stream id '<ms>-<seq>'") from None


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_at: float


@dataclass(slots=True)
class _Group:
    last_delivered: EntryId = (0, 0)
    pending: dict[EntryId, _Pending] = field(default_factory=dict)


class MemoryStream(Generic[T]):
    def __init__(self, name: str, maxlen: int = STREAM_MAXLEN) -> None:
        self._name = name
        self._maxlen = maxlen
        self._ids: list[EntryId] = []
        self._events: dict[EntryId, T] = {}
        self._groups: dict[str, _Group] = {}
        self._last: EntryId = (0, 0)
        self._changed = asyncio.Event()

    @property
    def name(self) -> str:
        return self._name

    def _next_id(self) -> EntryId:
        ms = int(time.time() * 1000)
        entry_id = (ms, 0) if ms > self._last[0] else (self._last[0], self._last[1] + 1)
        self._last = entry_id
        return entry_id

    async def publish(self, events: Sequence[T]) -> list[str]:
        ids = []
        for event in events:
            entry_id = self._next_id()
            self._ids.append(entry_id)
            self._events[entry_id] = event
            ids.append(_format(entry_id))
        if len(self._ids) > self._maxlen + max(1, self._maxlen // 10):
            for old in self._ids[: len(self._ids) - self._maxlen]:
                del self._events[old]
            del self._ids[: len(self._ids) - self._maxlen]
        if ids:
            self._changed.set()
            self._changed = asyncio.Event()
        return ids

    def _group(self, group: str) -> _Group:
        return self._groups.setdefault(check_key_part("group", group), _Group())

    async def read(
        self,
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
        pending: bool = False,
    ) -> list[Delivery[T]]:
        state = self._group(group)
        check_key_part("consumer", consumer)
        if pending:
            return self._redeliver(state, consumer, count)
        deadline = None if block_ms is None else time.monotonic() + block_ms / 1000
        while True:
            start = bisect.bisect_right(self._ids, state.last_delivered)
            fresh = self._ids[start : start + count]
            if fresh or block_ms is None:
                break
            changed = self._changed
            timeout = None if block_ms == 0 else deadline - time.monotonic()  # type: ignore[operator]
            if timeout is not None and timeout <= 0:
                return []
            try:
                await asyncio.wait_for(changed.wait(), timeout)
            except TimeoutError:
                return []
        now = time.monotonic()
        for entry_id in fresh:
            state.pending[entry_id] = _Pending(consumer, now)
        if fresh:
            state.last_delivered = fresh[-1]
        return [Delivery(_format(i), self._events[i]) for i in fresh]

    def _redeliver(self, state: _Group, consumer: str, count: int) -> list[Delivery[T]]:
        now = time.monotonic()
        out = []
        for entry_id in sorted(state.pending):
            entry = state.pending[entry_id]
            if entry.consumer != consumer:
                continue
            entry.delivered_at = now
            if entry_id in self._events:  # trimmed entries stay pending but have no body
                out.append(Delivery(_format(entry_id), self._events[entry_id]))
            if len(out) >= count:
                break
        return out

    async def ack(self, group: str, ids: Sequence[str]) -> int:
        state = self._group(group)
        acked = 0
        for text in ids:
            if state.pending.pop(_parse("id", text), None) is not None:
                acked += 1
        return acked

    async def claim(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Delivery[T]]:
        state = self._group(group)
        check_key_part("consumer", consumer)
        now = time.monotonic()
        out = []
        for entry_id in sorted(state.pending):
            entry = state.pending[entry_id]
            if (now - entry.delivered_at) * 1000 < min_idle_ms:
                continue
            if entry_id not in self._events:  # as XAUTOCLAIM: deleted entries leave the PEL
                del state.pending[entry_id]
                continue
            state.pending[entry_id] = _Pending(consumer, now)
            out.append(Delivery(_format(entry_id), self._events[entry_id]))
            if len(out) >= count:
                break
        return out

    async def pending_count(self, group: str) -> int:
        state = self._groups.get(group)
        return 0 if state is None else len(state.pending)

    async def length(self) -> int:
        return len(self._ids)

    async def recent(self, count: int, *, before: str | None = None) -> list[Delivery[T]]:
        end = len(self._ids) if before is None else bisect.bisect_left(
            self._ids, _parse("before", before)
        )
        if count < 1 or end == 0:
            return []
        older = self._ids[max(0, end - count) : end]
        return [Delivery(_format(i), self._events[i]) for i in reversed(older)]


class MemoryFillSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Fill] = asyncio.Queue(maxsize=10_000)

    async def get(self, wait_s: float) -> Fill | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait_s)
        except TimeoutError:
            return None


class MemoryEventBus:
    def __init__(self, *, maxlen: int = STREAM_MAXLEN) -> None:
        self._fills = MemoryStream[Fill]("events:fills", maxlen)
        self._bars = MemoryStream[Bar]("events:bars", maxlen)
        self._alerts = MemoryStream[Alert]("events:alerts", maxlen)
        self._announced: dict[str, int] = {}
        self._sent: dict[FillKey, None] = {}  # announced lately, oldest first: each goes once
        self._subscribers: set[MemoryFillSubscription] = set()
        self._commands: dict[str, MemoryStream[ControlCommand]] = {}

    @property
    def fills(self) -> MemoryStream[Fill]:
        return self._fills

    @property
    def bars(self) -> MemoryStream[Bar]:
        return self._bars

    @property
    def alerts(self) -> MemoryStream[Alert]:
        return self._alerts

    async def alert(self, alert: Alert) -> None:
        await self._alerts.publish([alert])

    def commands(self, bot_id: str) -> MemoryStream[ControlCommand]:
        """``commands:{bot_id}`` in process (the embedded mode's command stream)."""
        stream = self._commands.get(check_key_part("bot_id", bot_id))
        if stream is None:
            stream = MemoryStream[ControlCommand](f"commands:{bot_id}", COMMANDS_MAXLEN)
            self._commands[bot_id] = stream
        return stream

    async def publish_fills(
        self, fills: Sequence[Fill], *, announced: Mapping[str, int] | None = None
    ) -> list[str]:
        fresh: list[Fill] = []
        positions: list[int] = []
        for n, fill in enumerate(fills):
            if fill.key not in self._sent:
                self._sent[fill.key] = None
                fresh.append(fill)
                positions.append(n)
        while len(self._sent) > ANNOUNCED_KEEP:
            del self._sent[next(iter(self._sent))]
        published = await self._fills.publish(fresh)
        ids = [""] * len(fills)
        for n, entry in zip(positions, published, strict=True):
            ids[n] = entry
        if announced:
            raise_marks(self._announced, announced)
        await self.notify_fills(fresh)
        return ids

    async def announced(self) -> dict[str, int]:
        return dict(self._announced)

    async def notify_fills(self, fills: Sequence[Fill]) -> int:
        """A subscriber too slow to keep 10,000 queued loses the newest, as a hint may."""
        received = 0
        for fill in fills:
            for subscriber in list(self._subscribers):
                try:
                    subscriber.queue.put_nowait(fill)
                    received += 1
                except asyncio.QueueFull:
                    pass
        return received

    @asynccontextmanager
    async def subscribe_fills(self) -> AsyncIterator[MemoryFillSubscription]:
        subscription = MemoryFillSubscription()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
