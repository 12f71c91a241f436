"""Server-sent events: one hub per process fans the desk's live events out to every browser.
The facade is read only while someone watches.

Three feeds, one task each, all through ports: fills announced on the bus's notification channel
(``subscribe_fills``; a hint for live displays, exactly its purpose), alerts from the durable
``events:alerts`` stream (its own consumer group ``web``), and the desk snapshot (the facade's
status, positions, balances and health) polled every ``poll_s`` and at once after a fill, so a
new fill's position and PnL show up with it. A browser that cannot keep up is dropped (its
EventSource reconnects and gets a fresh snapshot) rather than holding memory for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alphadesk.engine.state_ports import CorruptEvent, EventBus
from alphadesk.web.jsonview import to_jsonable
from alphadesk.web.ports import DeskControl

log = logging.getLogger(__name__)

ALERT_GROUP = "web"
QUEUE_SIZE = 256

Message = tuple[str, str]  # (event name, JSON data)


async def snapshot(control: DeskControl) -> dict[str, Any]:
    """The overview's data in one object, every figure from the facade."""
    status, positions, balances, health = await asyncio.gather(
        control.status(), control.positions(), control.balances(), control.health()
    )
    return {
        "at": to_jsonable(datetime.now(UTC)),
        "status": to_jsonable(status),
        "positions": to_jsonable(positions),
        "balances": to_jsonable(balances),
        "health": to_jsonable(health),
    }


async def pnl_summary(control: DeskControl) -> dict[str, Any]:
    """Per bot: today's net PnL (the facade's daily table, one row) and the total (analytics'
    per-strategy net PnL). Heavier than the snapshot, so sent after fills and every
    :data:`PNL_EVERY_S`, not on every poll."""
    bots = await control.bots()
    analytics = to_jsonable(await control.analytics())
    tables = await asyncio.gather(*(control.pnl_table("daily", bot, 1) for bot in bots))
    today = {bot: to_jsonable(table).get("total", {}).get("net_pnl")
             for bot, table in zip(bots, tables, strict=True)}  # fmt: skip
    total = {line["bot_id"]: line.get("net_pnl") for line in analytics.get("by_strategy", [])}
    return {"today": today, "total": total}


PNL_EVERY_S = 30.0
#: At most one PnL summary per this many seconds however many fills land: it reads every fill
#: (about 0.2 s of CPU for 15,000 fills; benchmarks/web.py).
PNL_MIN_GAP_S = 5.0


class LiveHub:
    def __init__(
        self,
        control: DeskControl,
        bus: EventBus | None,
        *,
        poll_s: float = 2.0,
        snapshot_fn: Callable[[DeskControl], Awaitable[dict[str, Any]]] = snapshot,
    ) -> None:
        self._control = control
        self._bus = bus
        self._poll_s = poll_s
        self._snapshot_fn = snapshot_fn
        self._queues: set[asyncio.Queue[Message]] = set()
        self._kick = asyncio.Event()
        self._pnl_kick = asyncio.Event()
        self._last: dict[str, Message] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer = f"{socket.gethostname()}-{os.getpid()}"

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._poll_loop(), name="web-live-poll"),
                       asyncio.create_task(self._pnl_loop(), name="web-live-pnl")]
        if self._bus is not None:
            self._tasks.append(asyncio.create_task(self._fills_loop(), name="web-live-fills"))
            self._tasks.append(asyncio.create_task(self._alerts_loop(), name="web-live-alerts"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def refresh(self) -> None:
        """Publish a new snapshot now (after a fill or a command)."""
        self._kick.set()

    def refresh_pnl(self) -> None:
        self._pnl_kick.set()

    def _broadcast(self, event: str, data: Any) -> None:
        message = (event, json.dumps(data, separators=(",", ":")))
        if event in ("snapshot", "pnl"):
            self._last[event] = message
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(("bye", "{}"))

    async def subscribe(self) -> AsyncIterator[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        for message in self._last.values():
            queue.put_nowait(message)
        self._queues.add(queue)
        self.refresh()
        self.refresh_pnl()
        try:
            while True:
                message = await queue.get()
                yield message
                if message[0] == "bye":
                    return
        finally:
            self._queues.discard(queue)

    async def _idle(self, kick: asyncio.Event) -> None:
        """Nobody watching: no reads until someone subscribes (which kicks)."""
        while not self._queues:
            kick.clear()
            await kick.wait()

    async def _poll_loop(self) -> None:
        while True:
            await self._idle(self._kick)
            try:
                self._broadcast("snapshot", await self._snapshot_fn(self._control))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failing read must not end the live feed
                log.warning("web: desk snapshot failed: %s", exc)
                problem = f"desk snapshot failed: {type(exc).__name__}"
                self._broadcast("problem", {"message": problem})
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self._poll_s)

    async def _pnl_loop(self) -> None:
        while True:
            await self._idle(self._pnl_kick)
            self._pnl_kick.clear()
            try:
                self._broadcast("pnl", await pnl_summary(self._control))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("web: PnL summary failed: %s", exc)
            done = asyncio.get_running_loop().time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pnl_kick.wait(), PNL_EVERY_S)
            # a burst of fills costs one summary, not one each
            await asyncio.sleep(max(0.0, done + PNL_MIN_GAP_S - asyncio.get_running_loop().time()))

    async def _fills_loop(self) -> None:
        assert self._bus is not None
        while True:
            try:
                async with self._bus.subscribe_fills() as subscription:
                    while True:
                        fill = await subscription.get(5.0)
                        if fill is not None:
                            self._broadcast("fill", to_jsonable(fill))
                            self.refresh()
                            self.refresh_pnl()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("web: fill subscription failed, retrying: %s", exc)
                await asyncio.sleep(1.0)

    async def _alerts_loop(self) -> None:
        assert self._bus is not None
        stream = self._bus.alerts
        started = datetime.now(UTC) - timedelta(minutes=1)
        while True:
            try:
                deliveries = await stream.read(
                    ALERT_GROUP, self._consumer, count=100, block_ms=2000
                )
                for delivery in deliveries:
                    if delivery.event.at >= started:  # the group's first read is the backlog
                        self._broadcast("alert", to_jsonable(delivery.event))
                if deliveries:
                    await stream.ack(ALERT_GROUP, [d.id for d in deliveries])
            except asyncio.CancelledError:
                raise
            except CorruptEvent as exc:
                await stream.ack(ALERT_GROUP, [exc.entry_id])  # parked by the listener's owner
            except Exception as exc:
                log.warning("web: alert stream failed, retrying: %s", exc)
                await asyncio.sleep(1.0)
