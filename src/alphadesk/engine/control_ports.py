"""The ports the control facade reads and writes through; adapters implement them.

The facade answers from the ledger and the live state, never from the exchange: these ports are
reads of ``trading.*`` (bots, equity snapshots, fill tallies, the positions projection, the
command audit), of the listener's health snapshot, and, for the read-only reconcile, a venue
reader the app wires from the bots' keys. Live positions, prices, bot status and the command
streams are the state ports of :mod:`alphadesk.engine.state_ports`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from alphadesk.analytics.curve import EquityPoint
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.health import AccountHealth
from alphadesk.engine.ports import StoredRoundTrip
from alphadesk.engine.reconcile import Report
from alphadesk.engine.sync import SyncRow


@dataclass(frozen=True, slots=True)
class EquitySnapshot:
    """The newest ``trading.equity`` row of a bot (the venue's wallet as the listener saw it)."""

    bot_id: str
    equity: Decimal
    wallet_balance: Decimal | None
    available_balance: Decimal | None
    unrealized_pnl: Decimal | None
    at: datetime


@dataclass(frozen=True, slots=True)
class FillTally:
    """Trade executions of one bot on one symbol: how many, and their volume (sum of price x
    quantity) and fees, summed exactly."""

    bot_id: str
    symbol: str
    fills: int
    volume: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class LedgerPosition:
    """An open row of ``trading.positions`` (the ledger's projection of the fills)."""

    bot_id: str
    symbol: str
    side: Side
    size: Decimal
    avg_price: Decimal
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of ``trading.control_audit``."""

    command_id: str
    at: datetime
    actor: str
    bot_id: str
    command: str
    outcome: str
    args: Mapping[str, str] = field(default_factory=dict)
    applied_at: datetime | None = None


class ControlLedger(Protocol):
    """Reads of the ledger the facade needs beyond the fill and round-trip stores."""

    async def bots(self) -> list[BotRecord]:
        """Every row of ``trading.bots``, by id."""
        ...

    async def latest_equity(self) -> dict[str, EquitySnapshot]:
        """Each bot's newest ``trading.equity`` snapshot."""
        ...

    async def equity_curve(self, bot_id: str | None) -> list[EquityPoint]:
        """``trading.equity`` of one bot (of every bot summed per instant when None), oldest
        first."""
        ...

    async def fill_tallies(self) -> list[FillTally]: ...

    async def open_positions(self) -> list[LedgerPosition]: ...

    async def close(self) -> None: ...


class AuditLog(Protocol):
    """``trading.control_audit``: every command, who asked, when, and what came of it."""

    async def record(self, entry: AuditEntry) -> None: ...

    async def set_outcome(self, command_id: str, outcome: str, at: datetime) -> None:
        """The bot's word on a command it applied (or could not)."""
        ...

    async def recent(self, *, bot_id: str | None = None, limit: int = 20) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def close(self) -> None: ...


class FillReader(Protocol):
    async def read_fills(self, *, bot_id: str | None = None) -> list[Fill]: ...


class RoundTripReader(Protocol):
    async def list_round_trips(
        self, *, bot_id: str | None = None, limit: int | None = None
    ) -> list[StoredRoundTrip]: ...


class SyncReader(Protocol):
    async def recent(self, bot_id: str, limit: int) -> list[SyncRow]: ...


@dataclass(frozen=True, slots=True)
class ListenerSnapshot:
    """The health snapshot a running listener writes (:class:`engine.health.HealthReport`)."""

    at: datetime
    healthy: bool
    problems: tuple[str, ...]
    accounts: tuple[AccountHealth, ...]
    dead_letters: int


class HealthSource(Protocol):
    async def listener(self) -> ListenerSnapshot | None:
        """The newest snapshot; None when there is none (no listener runs)."""
        ...


class VenueReconcile(Protocol):
    """A read-only reconcile of the given bots' accounts (never ``repair``)."""

    async def compare(self, bot_ids: Sequence[str]) -> list[Report]: ...
