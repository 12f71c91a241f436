"""A dead letter: one input row the desk could not record, kept with its raw payload and reason.

A row that cannot be decoded (a NUL in an id, a date in the year 10000, a symbol Bybit cannot
send) or that the ledger refuses must cost only itself: it is set aside here, an alert is raised,
and the good rows around it go on. Nothing is dropped silently; the owner can read every dead
letter back (``raw`` is the payload exactly as it arrived, as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alphadesk.domain import checks


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """``source`` says where the row came from (``ws:execution``, ``rest:execution``,
    ``ledger``); ``reason`` is the error that named the field and value; ``raw`` is the row as
    received (JSON text, or the encoded fill for a row the ledger refused)."""

    source: str
    reason: str
    raw: str
    at: datetime
    venue: str = ""
    account: str = ""

    def __post_init__(self) -> None:
        checks.utc("dead_letter.at", self.at)
        for name in ("source", "reason", "raw", "venue", "account"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"dead_letter.{name} must be str")
