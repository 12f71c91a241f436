"""Owner commands to one bot (halt, resume, flatten, reduce), as the stream ``commands:{bot_id}``
carries them.

A domain value so that whoever issues a command (the control facade behind Telegram, the CLI or a
dashboard, or ``alphadesk reconcile --repair``) and the bot that applies it, in another process,
agree on one shape. ``id`` identifies the command end to end: the audit row in the ledger, the
stream entry and the bot's acknowledgement all carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField


class CommandKind(StrEnum):
    HALT = "halt"
    """No new positions; exits, stops and take-profits keep being managed (state REDUCING)."""
    RESUME = "resume"
    """Back to ACTIVE (the kill switch's explicit resume, which re-bases its high-water mark)."""
    FLATTEN = "flatten"
    """No new positions, and the bot closes every open position through its own order path."""
    REDUCE = "reduce"
    """REDUCING for a reason of the desk's (reconcile found a position it cannot explain)."""

    @classmethod
    def parse(cls, value: object, field: str = "command.kind") -> CommandKind:
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value)
        names = ", ".join(k.value for k in cls)
        raise InvalidField(field, value, f"must be one of {names}")


@dataclass(frozen=True, slots=True)
class ControlCommand:
    id: str
    bot_id: str
    kind: CommandKind
    actor: str
    """Who asked: ``telegram:<user id>``, ``cli:<user>``, ``reconcile``."""
    at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        checks.key_part("command.id", self.id, max_len=64)
        checks.key_part("command.bot_id", self.bot_id, max_len=50)
        if not isinstance(self.kind, CommandKind):
            object.__setattr__(self, "kind", CommandKind.parse(self.kind))
        checks.text("command.actor", self.actor, max_len=100)
        checks.utc("command.at", self.at)
        checks.text("command.reason", self.reason, max_len=200, allow_empty=True)
