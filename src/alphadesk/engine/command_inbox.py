"""A bot's end of ``commands:{bot_id}``: the owner's commands, applied by the bot itself.

The control facade (:mod:`alphadesk.engine.control`) publishes; the bot reads the stream through
the consumer group ``bot`` (created at the stream's beginning, so a bot that was down finds every
command it has not acknowledged when it starts: :meth:`CommandInbox.drain` runs before the bot
trades), applies each command in order, persists the new state, acknowledges the entry, and
writes the outcome into the command's audit row. A crash between applying and acknowledging
applies the command again on the next start, which changes nothing: every command is idempotent
(a state set twice is the same state; a second exit of a position already closing or flat is
refused by the router).

What a command does to the bot's own engine (never behind its back):

- ``halt``: REDUCING, the kill switch's "no new positions": exits, stops and take-profits keep
  being managed (HALTED would freeze those too). A bot already HALTED by its drawdown switch
  stays HALTED: a command never lowers the state, except ``resume``.
- ``reduce``: the same, for a desk reason (``alphadesk reconcile --repair``).
- ``resume``: ACTIVE, the kill switch's explicit resume (it re-bases the high-water mark).
- ``flatten``: ``halt``, then an explicit exit (allowed in every state) of every open position
  through the bot's own router and venue; the fills arrive as any other fill does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from alphadesk.domain.commands import CommandKind, ControlCommand
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.bot_registry import status_for
from alphadesk.engine.clock import utc_now
from alphadesk.engine.control_commands import COMMAND_GROUP
from alphadesk.engine.control_ports import AuditLog
from alphadesk.engine.risk import Refusal
from alphadesk.engine.runner import Engine
from alphadesk.engine.state_ports import CorruptEvent, Delivery, EventStream
from alphadesk.engine.trading_state import TradingState, worst

log = logging.getLogger("alphadesk.commands")

Persist = Callable[[TradingState], Awaitable[None]]


class CommandInbox:
    def __init__(
        self,
        engine: Engine,
        stream: EventStream[ControlCommand],
        *,
        persist: Persist | None = None,
        audit: AuditLog | None = None,
        block_ms: int = 1000,
        retry_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.stream = stream
        self.persist = persist
        self.audit = audit
        self.block_ms = block_ms
        self.retry_s = retry_s
        self.applied: list[tuple[ControlCommand, str]] = []
        self._consumer = engine.bot_id
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- reading ------------------------------------------------------------------------------

    async def _read(self, block_ms: int | None) -> list[Delivery[ControlCommand]]:
        """This bot's unacknowledged entries first (a crash left them pending), then new ones."""
        group, me = COMMAND_GROUP, self._consumer
        try:
            batch = await self.stream.read(group, me, count=20, pending=True)
            if not batch:
                batch = await self.stream.read(group, me, count=20, block_ms=block_ms)
        except CorruptEvent as exc:  # unreadable: logged and acknowledged, never applied
            log.error("%s: command entry %s unreadable, skipped: %s", me, exc.entry_id, exc.reason)
            await self.stream.ack(group, [exc.entry_id])
            return []
        return batch

    async def drain(self) -> int:
        """Apply every command waiting now (at start-up, before the bot trades)."""
        count = 0
        while batch := await self._read(None):
            for delivery in batch:
                await self._handle(delivery)
                count += 1
        return count

    async def run(self) -> None:
        """Apply commands as they come until :meth:`close`; a bus outage is logged and retried."""
        failing = False
        while not self._stopping:
            try:
                batch = await self._read(self.block_ms)
                for delivery in batch:
                    await self._handle(delivery)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    break
                if not failing:
                    log.warning("%s: command stream unreadable (retrying): %s", self._consumer, exc)
                failing = True
                await asyncio.sleep(self.retry_s)
            else:
                failing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def close(self) -> None:
        """Stop reading. The reader is cancelled and also told to stop by a flag: redis-py 8.1
        can swallow a cancellation that lands at the wrong moment of a command, and the flag
        then ends the loop once the read in progress returns (at most ``block_ms``)."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=self.block_ms / 1000 + 5)
        if task in done and not task.cancelled() and task.exception() is not None:
            log.warning("%s: command reader ended with %s", self._consumer, task.exception())

    async def _handle(self, delivery: Delivery[ControlCommand]) -> None:
        command = delivery.event
        outcome = self.apply(command)
        log.warning("%s: %s from %s: %s", self._consumer, command.kind.value, command.actor,
                    outcome)  # fmt: skip
        if self.persist is not None:
            try:
                await self.persist(self.engine.risk.state)
            except Exception as exc:  # the kill-switch file already holds it
                log.warning("%s: state %s not written everywhere: %s", self._consumer,
                            self.engine.risk.state.value, exc)  # fmt: skip
        await self.stream.ack(COMMAND_GROUP, [delivery.id])
        self.applied.append((command, outcome))
        if self.audit is not None:
            with contextlib.suppress(Exception):
                await self.audit.set_outcome(command.id, outcome, utc_now())

    # -- applying -----------------------------------------------------------------------------

    def apply(self, command: ControlCommand) -> str:
        """Apply one command to the engine; returns the outcome for the audit row."""
        engine = self.engine
        if command.bot_id != engine.bot_id:
            return f"ignored: addressed to {command.bot_id}"
        now_ms = engine.ctx.now_ms
        reason = f"{command.kind.value} by {command.actor}"
        if command.reason:
            reason = f"{reason}: {command.reason}"
        reason = reason[:200]
        if command.kind is CommandKind.RESUME:
            engine.command_state(TradingState.ACTIVE, now_ms, reason)
            return f"applied: {status_for(engine.risk.state)}"
        own = engine.kill_switch.state
        target = worst(own, TradingState.REDUCING)
        if target is not own:
            engine.command_state(target, now_ms, reason)
        state = status_for(engine.risk.state)
        if command.kind is not CommandKind.FLATTEN:
            return f"applied: {state}"
        closing: list[str] = []
        refused: list[str] = []
        for symbol in sorted(engine.portfolio.positions):
            if engine.portfolio.positions[symbol].is_flat:
                continue
            sent = engine.command_exit(symbol, now_ms, "flatten")
            if isinstance(sent, OrderRequest):
                closing.append(symbol)
            elif isinstance(sent, Refusal) and "already in flight" in sent.reason:
                closing.append(symbol)  # an exit of its own is closing it
            else:
                refused.append(f"{symbol} ({getattr(sent, 'reason', 'no order')})")
        if not closing and not refused:
            return f"applied: {state}, nothing to close"
        text = f"applied: {state}, closing {len(closing)} ({', '.join(closing)})"
        return text + (f"; not closed: {', '.join(refused)}" if refused else "")
