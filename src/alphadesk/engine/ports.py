"""The ports the core talks through; adapters implement them.

Protocols rather than base classes: an adapter satisfies a port by shape, and the core never
imports it. Each port is small so a test double stays small too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.domain.orders import Order
from alphadesk.domain.positions import Position
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.domain.roundtrips import RoundTrip


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a batch write did: every fill is either newly stored or was already there."""

    inserted: tuple[FillKey, ...]
    duplicates: tuple[FillKey, ...]
    high_ids: Mapping[str, int] = field(default_factory=dict)
    """Per ledger table, the highest row id this batch inserted: what was committed, in commit
    order, so a publisher can mark how far it has announced (see ``fills_after``)."""

    @property
    def inserted_count(self) -> int:
        return len(self.inserted)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


class LedgerRejected(Exception):
    """The ledger answered and refused the rows themselves (a value its types or constraints do
    not accept), as opposed to being unreachable. Retrying the same rows can never succeed, so
    they must not wait in the spool: the fill recorder isolates the refused rows instead."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class FillStore(Protocol):
    """Storage for fills: insert-if-absent on (venue, account, exec_id), in one transaction.

    ``insert_fills`` returns only after the transaction has committed durably. Fills whose
    execution does not move a position (funding, settlement) are stored too and read back too.
    """

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult: ...

    async def read_fills(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        venue: str | None = None,
        account: str | None = None,
        since: datetime | None = None,
    ) -> list[Fill]:
        """Fills matching every given filter, in fold order (:mod:`alphadesk.domain.ordering`):
        for rebuilds."""
        ...

    async def last_exec_time(self, venue: str, account: str) -> datetime | None: ...

    async def fills_after(self, marks: Mapping[str, int]) -> list[Fill]:
        """Fills stored after the given row id of each table (a table not named: none), in fold
        order: what a crashed publisher committed but never announced."""
        ...

    async def high_ids(self) -> dict[str, int]:
        """The highest row id of each ledger table (0 when empty)."""
        ...


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A stored position projection and how far into the fills it has folded.

    ``fill_count`` counts the fills folded in; it only ever grows, so a writer can tell whether
    the row changed under it (compare-and-set) and a rebuild never overwrites a more complete row.
    ``last_exec_time``/``last_exec_id`` mark the newest fill folded, in fold order: a fill that
    sorts before it cannot be applied incrementally and forces a rebuild from the ledger.
    """

    position: Position
    fill_count: int
    last_exec_time: datetime | None
    last_exec_id: str


@dataclass(frozen=True, slots=True)
class PositionSave:
    """One projection row to store: when ``expected_count`` is an int, only if the stored row's
    ``fill_count`` still equals it (0 = no row yet); when None, only if the stored row has folded
    fewer fills than this one."""

    record: PositionRecord
    expected_count: int | None


class PositionProjectionStore(Protocol):
    """The ``positions`` table as the fill writer maintains it."""

    async def load_positions(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], PositionRecord]: ...

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        """Store what the conditions allow; returns the (bot_id, symbol) keys actually written."""
        ...


class LedgerStore(FillStore, PositionProjectionStore, Protocol):
    """What the fill writer needs from a storage adapter (PostgreSQL, SQLite)."""

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredRoundTrip:
    """A round trip as ``trading.completed_trades`` holds it (:mod:`alphadesk.engine.round_trips`).

    ``venue_closed_pnl`` is this round trip's share of the venue's closed-PnL record for its
    closing order (None until one is attached); ``venue_pnl_diff`` is that share minus the
    ledger's ``gross_pnl - fees`` (the venue's figure excludes funding)."""

    trade_id: str
    bot_id: str
    symbol: str
    entry_side: Side
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    gross_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    holding_seconds: int
    entry_reason: str
    exit_reason: str
    exit_order_id: str
    source: str
    venue_closed_pnl: Decimal | None = None
    venue_pnl_diff: Decimal | None = None


@dataclass(frozen=True, slots=True)
class VenuePnl:
    """One round trip's share of a venue closed-PnL record, to store beside it."""

    trade_id: str
    venue_closed_pnl: Decimal
    venue_pnl_diff: Decimal


class RoundTripStore(Protocol):
    """``trading.completed_trades`` rows of source ``ledger``, written by the round-trip keeper.

    Every write is one transaction and idempotent (rows are keyed by ``trade_id``). A bot the
    table does not know yet (``completed_trades.bot_id`` references ``trading.bots``) is
    registered as a stopped placeholder first; a real registration overwrites it."""

    async def replace_since(
        self, bot_id: str, symbol: str, since: datetime | None, trips: Sequence[RoundTrip]
    ) -> int:
        """Delete this key's ledger rows that closed at or after ``since`` (all when None), then
        write ``trips`` (upsert on ``trade_id``); returns the rows written."""
        ...

    async def add_round_trips(self, trips: Sequence[RoundTrip]) -> int:
        """Write ``trips`` (upsert on ``trade_id``), deleting nothing."""
        ...

    async def count_fills(self, bot_id: str, symbol: str) -> int:
        """How many executions (trades and cash settlements) the ledger holds for the key: what
        ``FillStore.read_fills`` would return for it, counted on the index."""
        ...

    async def replace_all(self, bot_id: str | None, trips: Sequence[RoundTrip]) -> int:
        """Delete every ledger row of ``bot_id`` (of every bot when None), then write ``trips``."""
        ...

    async def list_round_trips(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        exit_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[StoredRoundTrip]:
        """Ledger round trips matching every filter given, newest close first."""
        ...

    async def set_venue_pnl(self, shares: Sequence[VenuePnl]) -> int:
        """Store the venue's closed PnL beside these round trips; returns the rows updated."""
        ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# Ports of the trading core (router, risk, runner).


class StateStore(Protocol):
    """A tiny synchronous key-value store for risk state that must survive a restart.

    Synchronous on purpose: the risk gate decides inside a bar, with no awaits. A live adapter
    loads its keys at start-up and writes through (or behind) to Redis or SQL.
    """

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class OrderGateway(Protocol):
    """Where the engine core hands rounded requests (the backtest venue, or a live venue's queue).

    Returning means "handed over, outcome not known yet": the order stays in flight until the venue
    reports it (``Engine.on_order``/``Engine.on_fill``). Raising ``InvalidField`` means the venue
    refused it for sure; any other exception means the outcome is unknown, and it stays in flight.
    """

    def submit(self, request: OrderRequest) -> None: ...

    def cancel(self, request: CancelRequest) -> None: ...

    def set_trading_stop(self, request: TradingStopRequest) -> None: ...


class LiveVenue(Protocol):
    """What the live driver needs of a venue: Bybit (``adapters.bybit.venue``) and the paper
    venue (``adapters.sim.paper_venue``) implement it.

    ``place_order`` returns the order when the venue answers with it (paper) or None when only an
    acknowledgement came (Bybit: the order's fate follows on the private stream). It raises
    ``InvalidField`` for a definite refusal; anything else means the outcome is unknown.
    """

    venue: str
    account: str

    async def place_order(self, request: OrderRequest) -> Order | None: ...

    async def cancel_order(self, request: CancelRequest) -> None: ...

    async def set_trading_stop(self, request: TradingStopRequest) -> None: ...

    async def find_order(self, symbol: str, order_link_id: str) -> Order | None:
        """The order with this client id, open or recently closed; None when the venue has none."""
        ...


# Live state (PositionStore, MarketStateStore, BotStatusStore), the event bus, the fill spool and
# the dead-letter store are ports of their own in :mod:`alphadesk.engine.state_ports`.
