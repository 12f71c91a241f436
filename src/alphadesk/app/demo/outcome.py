"""What ``alphadesk demo`` shows while it runs and returns when it ends.

Plain values the desk fills in (:mod:`alphadesk.app.demo.desk`) and the display
(:mod:`alphadesk.app.demo.progress`) and the report (:mod:`alphadesk.app.demo.report`) read, so
neither of those needs the desk's running parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from alphadesk.analytics.desk import DeskSummary
from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import IngestStats
from alphadesk.engine.ports import StoredRoundTrip
from alphadesk.engine.reconcile import Report
from alphadesk.engine.sync import AccountTotals


@dataclass(slots=True)
class BotLive:
    """One bot as the progress display sees it."""

    bot_id: str
    strategy: str
    market: str
    orders: int = 0
    fills: int = 0
    pnl: Decimal = Decimal(0)
    open_positions: int = 0


@dataclass(slots=True)
class Snapshot:
    """What the progress display shows; refreshed after every step."""

    phase: str
    clock: datetime | None = None
    steps: int = 0
    total_steps: int = 0
    bars: int = 0
    recorded: int = 0
    """Executions the listener stored in the ledger."""
    bots: list[BotLive] = field(default_factory=list)


class Progress(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...


@dataclass(slots=True)
class DemoOutcome:
    start: datetime
    end: datetime
    steps: int
    bars: int
    bots: list[BotLive]
    listener: IngestStats
    sync: list[AccountTotals]
    reconcile: list[Report]
    summary: DeskSummary
    fills: list[Fill]
    trips: list[StoredRoundTrip]
    late_steps: int = 0
    wall_s: float = 0.0

    @property
    def differences(self) -> int:
        return sum(len(r.differences) for r in self.reconcile)
