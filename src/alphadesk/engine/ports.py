"""The ports the core talks through; adapters implement them.

Protocols rather than base classes: an adapter satisfies a port by shape, and the core never
imports it. Each port is small so a test double stays small too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from alphadesk.domain.fills import Fill, FillKey


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a batch write did: every fill is either newly stored or was already there."""

    inserted: tuple[FillKey, ...]
    duplicates: tuple[FillKey, ...]

    @property
    def inserted_count(self) -> int:
        return len(self.inserted)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


class Clock(Protocol):
    def now(self) -> datetime: ...


class FillStore(Protocol):
    """Storage for fills: insert-if-absent on (venue, account, exec_id), in one transaction."""

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult: ...

    async def fills_for(self, bot_id: str, symbol: str) -> list[Fill]: ...

    async def last_exec_time(self, venue: str, account: str) -> datetime | None: ...
