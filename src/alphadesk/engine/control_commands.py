"""The control facade's commands: audit a command, publish it on the bot's stream, report.

Every command (halt, resume, flatten, reduce) gets an audit row in ``trading.control_audit``
first (who, when, what; outcome ``published``), then goes on ``commands:{bot_id}``; the bot
applies it in its own process (:mod:`alphadesk.engine.command_inbox`) and writes the outcome
into the same row. A command for an unknown bot, or one no bot could read (no shared bus), is
audited as refused and never published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from alphadesk.domain.commands import CommandKind, ControlCommand
from alphadesk.engine.control_names import find_bots
from alphadesk.engine.control_ports import AuditEntry, AuditLog, ControlLedger
from alphadesk.engine.control_views import (
    AuditLine,
    CommandReceipt,
    CommandsUnreachable,
    UnknownBot,
)
from alphadesk.engine.state_ports import BotStatusStore, CommandStreams

#: The consumer group every bot reads its command stream with (one consumer: the bot itself).
COMMAND_GROUP = "bot"


@dataclass(frozen=True, slots=True)
class CommandDesk:
    """Sends commands and reads their audit; the facade builds one from its ports."""

    ledger: ControlLedger
    audit: AuditLog
    commands: CommandStreams
    bot_status: BotStatusStore
    clock: Callable[[], datetime]
    stale_after_s: float
    unreachable: str
    """Why commands cannot reach a bot from here ("" when they can)."""

    async def send(
        self, kind: CommandKind, bot: str, actor: str, reason: str = ""
    ) -> CommandReceipt:
        now = self.clock()
        command_id = uuid.uuid4().hex
        try:
            bot_id = (await find_bots(self.ledger, bot))[0].bot_id
        except UnknownBot as exc:
            await self.audit.record(
                AuditEntry(
                    command_id,
                    now,
                    actor,
                    str(bot)[:100],
                    kind.value,
                    f"refused: {exc.reason}"[:500],
                )
            )
            raise
        if self.unreachable:
            refusal = f"refused: {self.unreachable}"[:500]
            await self.audit.record(AuditEntry(command_id, now, actor, bot_id, kind.value, refusal))
            raise CommandsUnreachable(self.unreachable)
        command = ControlCommand(command_id, bot_id, kind, actor, now, reason)
        args = {"reason": reason} if reason else {}
        await self.audit.record(
            AuditEntry(command_id, now, actor, bot_id, kind.value, "published", args)
        )
        try:
            (entry_id,) = await self.commands.commands(bot_id).publish([command])
        except Exception as exc:
            await self.audit.set_outcome(command_id, f"failed: not published ({exc})"[:500], now)
            raise
        record = (await find_bots(self.ledger, bot_id))[0]
        word = await self.bot_status.get_status(bot_id) or record.status
        beat = await self.bot_status.last_heartbeat(bot_id) or record.last_heartbeat
        alive = (
            word != "stopped"
            and beat is not None
            and (now - beat).total_seconds() <= self.stale_after_s
        )
        return CommandReceipt(command_id, bot_id, kind, actor, now, entry_id, alive)

    async def audit_log(self, bot: str | None, limit: int) -> list[AuditLine]:
        """The newest audited commands (of one bot, or the desk's)."""
        bot_id = (await find_bots(self.ledger, bot))[0].bot_id if bot is not None else None
        entries = await self.audit.recent(bot_id=bot_id, limit=limit)
        return [
            AuditLine(
                e.command_id,
                e.at,
                e.actor,
                e.bot_id,
                e.command,
                ", ".join(f"{k}={v}" for k, v in sorted(e.args.items())),
                e.outcome,
                e.applied_at,
            )
            for e in entries
        ]
