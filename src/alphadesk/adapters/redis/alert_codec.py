"""Alerts on ``events:alerts``: one JSON object each, the time as ISO-8601 UTC milliseconds."""

from __future__ import annotations

import json
from typing import Any

from alphadesk.adapters.redis.position_codec import iso_ms, parse_iso_ms
from alphadesk.domain.alerts import Alert
from alphadesk.domain.errors import InvalidField

_TEXTS = ("kind", "venue", "account", "symbol", "message")


def encode_alert(alert: Alert) -> bytes:
    data: dict[str, Any] = {name: getattr(alert, name) for name in _TEXTS}
    data["at"] = iso_ms(alert.at)
    data["details"] = dict(alert.details)
    return json.dumps(data, separators=(",", ":")).encode()


def decode_alert(raw: bytes | str) -> Alert:
    """Validate and rebuild; a defect raises :class:`InvalidField` naming the field."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidField("alert", raw, "is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidField("alert", raw, "must be a JSON object")
    at = data.get("at")
    if not isinstance(at, str):
        raise InvalidField("alert.at", at, "must be an ISO-8601 time")
    details = data.get("details", {})
    if not isinstance(details, dict):
        raise InvalidField("alert.details", details, "must be a JSON object")
    texts: dict[str, Any] = {name: data.get(name) for name in _TEXTS}
    return Alert(**texts, at=parse_iso_ms("alert.at", at), details=details)
