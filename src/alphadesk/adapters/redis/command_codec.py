"""Owner commands on ``commands:{bot_id}``: one JSON object each, the time as ISO-8601 UTC ms."""

from __future__ import annotations

import json

from alphadesk.adapters.redis.position_codec import iso_ms, parse_iso_ms
from alphadesk.domain.commands import CommandKind, ControlCommand
from alphadesk.domain.errors import InvalidField


def encode_command(command: ControlCommand) -> bytes:
    data = {
        "id": command.id,
        "bot_id": command.bot_id,
        "kind": command.kind.value,
        "actor": command.actor,
        "at": iso_ms(command.at),
        "reason": command.reason,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def decode_command(raw: bytes | str) -> ControlCommand:
    """Validate and rebuild; a defect raises :class:`InvalidField` naming the field."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidField("command", raw, "is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidField("command", raw, "must be a JSON object")
    at = data.get("at")
    if not isinstance(at, str):
        raise InvalidField("command.at", at, "must be an ISO-8601 time")
    return ControlCommand(
        id=data.get("id"),  # type: ignore[arg-type]  # validated by ControlCommand
        bot_id=data.get("bot_id"),  # type: ignore[arg-type]
        kind=CommandKind.parse(data.get("kind")),
        actor=data.get("actor"),  # type: ignore[arg-type]
        at=parse_iso_ms("command.at", at),
        reason=data.get("reason", ""),
    )
