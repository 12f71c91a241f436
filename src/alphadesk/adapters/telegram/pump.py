"""Pushes ``events:alerts`` and ``events:fills`` to the admins through the :class:`Batcher`.

Each stream is read through the consumer group ``telegram`` (so a restart carries on where it
stopped, and a Redis bus shared by several processes delivers each entry once). An entry is acked
once its line is queued: a crash loses at most the lines of one unsent message, never a fill (the
ledger has it). A new group starts at the stream's beginning, so events older than ``max_age_s``
are acked without a message: a fresh bot, or a year of backfilled fills, must not flood the chat.
With ``status`` (the control facade's), the desk's state is also polled every ``watch_every_s``
for what no event carries (:mod:`.watch`: kill switches, listener outages, a growing spool).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from alphadesk.domain.alerts import Alert
from alphadesk.domain.fills import Fill
from alphadesk.engine.control_views import DeskStatus
from alphadesk.engine.state_ports import CorruptEvent, EventBus, EventStream

from .alert_lines import alert_line, fill_line
from .batching import Batcher
from .mutes import Mutes
from .watch import DeskWatch

log = logging.getLogger(__name__)
T = TypeVar("T")

GROUP = "telegram"
READ_COUNT = 500
BLOCK_MS = 1000


class AlertPump:
    def __init__(
        self,
        bus: EventBus,
        batcher: Batcher,
        send: Callable[[str], Awaitable[None]],
        mutes: Mutes,
        *,
        now: Callable[[], datetime],
        max_age_s: float = 600.0,
        consumer: str = "telegram",
        status: Callable[[], Awaitable[DeskStatus]] | None = None,
        watch: DeskWatch | None = None,
        watch_every_s: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._batcher = batcher
        self._send = send
        self._mutes = mutes
        self._now = now
        self._max_age = timedelta(seconds=max_age_s)
        self._consumer = consumer
        self._status = status
        self._watch = watch or DeskWatch()
        self._watch_every_s = watch_every_s
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self.queued = 0
        self.skipped = 0
        self.sent = 0

    async def run(self) -> None:
        """Until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._read(self._bus.alerts, self._alert))
            group.create_task(self._read(self._bus.fills, self._fill))
            group.create_task(self._deliver())
            if self._status is not None:
                group.create_task(self._watch_desk(self._status))

    async def watch_once(self, status: Callable[[], Awaitable[DeskStatus]]) -> int:
        """One look at the desk's status; queues the alerts it implies, returns how many."""
        lines = self._watch.observe(await status(), self._monotonic())
        for line in lines:
            self._batcher.alert(line)
        if lines:
            self._wake.set()
        return len(lines)

    async def _watch_desk(self, status: Callable[[], Awaitable[DeskStatus]]) -> None:
        failing = False
        while True:
            try:
                await self.watch_once(status)
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the ledger may be down: say so once, keep watching
                if not failing:
                    log.error("telegram: reading the desk's status failed: %s", exc)
                failing = True
            await asyncio.sleep(self._watch_every_s)

    def _alert(self, alert: Alert) -> bool:
        if alert.at < self._now() - self._max_age:
            return False
        self._batcher.alert(alert_line(alert))
        return True

    def _fill(self, fill: Fill) -> bool:
        if fill.exec_time < self._now() - self._max_age:
            return False
        if fill.exec_type.is_forced:  # a forced fill is an alert: never muted, never folded
            self._batcher.alert("⚠ " + fill_line(fill))
        elif not self._mutes.muted(fill.bot_id):
            self._batcher.fill(fill.bot_id, fill_line(fill))
        return True

    async def _read(self, stream: EventStream[T], take: Callable[[T], bool]) -> None:
        failing = False
        pending = True  # first what this consumer was handed before a restart, then new entries
        while True:
            try:
                deliveries = await stream.read(GROUP, self._consumer, count=READ_COUNT,
                                               block_ms=None if pending else BLOCK_MS,
                                               pending=pending)  # fmt: skip
            except CorruptEvent as exc:  # the ledger has the fill; the chat only misses a line
                log.error("telegram: %s (skipped)", exc)
                await stream.ack(GROUP, [exc.entry_id])
                pending = True  # the good entries of that batch were handed out: read them again
                continue
            except Exception as exc:  # a bus outage must not stop the bot's commands
                if not failing:
                    log.error("telegram: reading %s failed: %s", stream.name, exc)
                failing = True
                await asyncio.sleep(1.0)
                continue
            failing = False
            if not deliveries:
                pending = False
                continue
            for delivery in deliveries:
                if take(delivery.event):
                    self.queued += 1
                else:
                    self.skipped += 1
            await stream.ack(GROUP, [d.id for d in deliveries])
            self._wake.set()

    async def _deliver(self) -> None:
        while True:
            wait = self._batcher.due_in()
            if wait is None:
                await self._wake.wait()
                self._wake.clear()
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            message = self._batcher.take()
            if message is None:
                continue
            try:
                await self._send(message)
                self.sent += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("telegram: an alert message could not be sent: %s", exc)
