"""Alerts: what the owner must look at (a forced fill, a position the venue and ledger disagree on).

A domain value so the bus can carry it (``events:alerts``) to whoever watches from elsewhere (the
Telegram bot, a dashboard) exactly as the listener raised it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from alphadesk.domain import checks


@dataclass(frozen=True, slots=True)
class Alert:
    """``kind`` is a short word (``forced_fill``, ``position_mismatch``); ``details`` holds the
    figures a reader may act on, as strings (Decimals keep their digits)."""

    kind: str
    venue: str
    account: str
    symbol: str
    message: str
    at: datetime
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks.text("alert.kind", self.kind, max_len=64)
        checks.text("alert.venue", self.venue, max_len=32)
        checks.text("alert.account", self.account, max_len=64, allow_empty=True)
        checks.text("alert.symbol", self.symbol, max_len=32, allow_empty=True)
        checks.text("alert.message", self.message, max_len=2000)
        checks.utc("alert.at", self.at)
        for key, value in self.details.items():
            checks.text("alert.details key", key, max_len=64)
            checks.text(f"alert.details.{key}", value, max_len=2000, allow_empty=True)
