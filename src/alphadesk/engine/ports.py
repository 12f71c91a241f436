"""The ports the core talks through; adapters implement them.

Protocols rather than base classes: an adapter satisfies a port by shape, and the core never
imports it. Each port is small so a test double stays small too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from alphadesk.domain.bars import Bar
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.domain.orders import Order
from alphadesk.domain.positions import Position
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest


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
        """Fills matching every given filter, in (exec_time, exec_id) order: for rebuilds."""
        ...

    async def last_exec_time(self, venue: str, account: str) -> datetime | None: ...

    async def fills_after(self, marks: Mapping[str, int]) -> list[Fill]:
        """Fills stored after the given row id of each table (a table not named: none), in the
        order they were stored: what a crashed publisher committed but never announced."""
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


class ExecutionVenue(Protocol):
    """A live or paper venue, asynchronous: Bybit, the paper venue, the simulator's client."""

    async def place_order(self, request: OrderRequest) -> Order: ...

    async def cancel_order(self, request: CancelRequest) -> Order: ...

    async def set_trading_stop(self, request: TradingStopRequest) -> None: ...


class MarketFeed(Protocol):
    """Closed bars of the subscribed symbols, in close-time order."""

    def bars(self) -> AsyncIterator[Bar]: ...


# Live state (PositionStore, MarketStateStore, BotStatusStore), the event bus and the fill
# spool are ports of their own in :mod:`alphadesk.engine.state_ports`.


class Notifier(Protocol):
    """Human notifications (Telegram): best effort, never blocks trading."""

    async def notify(self, text: str) -> None: ...


class OrderReports(Protocol):
    """The engine side that venues report to."""

    def on_fill(self, fill: Fill) -> None: ...

    def on_order(self, update: OrderUpdated) -> None: ...
