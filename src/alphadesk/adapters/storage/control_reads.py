"""What the control facade reads from the ledger, on PostgreSQL and SQLite.

Implements :class:`alphadesk.engine.control_ports.ControlLedger`: ``trading.bots``, the newest
``trading.equity`` snapshot per bot and the equity curve, fill counts and volumes per bot and
symbol, and the open rows of ``trading.positions``. Money is summed exactly: ``numeric`` on
PostgreSQL; on SQLite (TEXT money, which SQL would sum in floating point) the rows are summed
in Python as ``Decimal``.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from alphadesk.adapters.storage import pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.analytics.curve import EquityPoint
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.control_ports import EquitySnapshot, FillTally, LedgerPosition

if TYPE_CHECKING:
    from alphadesk.engine.control_ports import ControlLedger

T = TypeVar("T")

_BOT_COLUMNS = (
    "bot_id", "bot_name", "bot_type", "strategy_name", "status", "deployment_mode",
    "initial_capital", "current_equity", "last_heartbeat",
)  # fmt: skip
_BOTS = f"SELECT {', '.join(_BOT_COLUMNS)} FROM trading.bots ORDER BY bot_id"
_LATEST_EQUITY = (
    "SELECT e.bot_id, e.equity, e.wallet_balance, e.available_balance, e.unrealized_pnl, "
    "e.snapshot_time FROM trading.equity e JOIN (SELECT bot_id, max(snapshot_time) AS t "
    "FROM trading.equity GROUP BY bot_id) m ON e.bot_id = m.bot_id AND e.snapshot_time = m.t"
)
_CURVE = "SELECT bot_id, snapshot_time, equity FROM trading.equity"
_OPEN = (
    "SELECT bot_id, symbol, side, size, avg_entry_price, updated_at FROM trading.positions "
    "WHERE side IS NOT NULL ORDER BY bot_id, symbol"
)
_PG_TALLIES = (
    "SELECT bot_id, symbol, count(*) AS n, coalesce(sum(exec_price * exec_qty), 0) AS volume, "
    "coalesce(sum(commission), 0) AS fees FROM trading.fills GROUP BY bot_id, symbol"
)
_LITE_FILLS = "SELECT bot_id, symbol, exec_price, exec_qty, commission FROM trading.fills"


def _record(
    row: Any, money: Callable[[Any], Decimal], when: Callable[[Any], datetime]
) -> BotRecord:
    data = {c: row[i] for i, c in enumerate(_BOT_COLUMNS)}
    data["initial_capital"] = money(data["initial_capital"])
    if data["current_equity"] is not None:
        data["current_equity"] = money(data["current_equity"])
    if data["last_heartbeat"] is not None:
        data["last_heartbeat"] = when(data["last_heartbeat"])
    return BotRecord(**data)


def _opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _snapshot(row: Any, when: Callable[[Any], datetime]) -> EquitySnapshot:
    return EquitySnapshot(row[0], Decimal(row[1]), _opt(row[2]), _opt(row[3]), _opt(row[4]),
                          when(row[5]))  # fmt: skip


def _curve(
    found: list[Any], bot_id: str | None, when: Callable[[Any], datetime]
) -> list[EquityPoint]:
    """One bot's snapshots, or every bot's summed per instant (each bot's newest value carried
    forward, so a desk curve never drops when one bot reports later than another)."""
    ordered = sorted(((when(r[1]), r[0], Decimal(r[2])) for r in found), key=lambda x: x[:2])
    if bot_id is not None:
        return [EquityPoint(to_epoch_ms(at), eq) for at, bot, eq in ordered if bot == bot_id]
    latest: dict[str, Decimal] = {}
    points: list[EquityPoint] = []
    for at, bot, eq in ordered:
        latest[bot] = eq
        ms = to_epoch_ms(at)
        total = sum(latest.values(), Decimal(0))
        if points and points[-1].time_ms == ms:
            points[-1] = EquityPoint(ms, total)
        else:
            points.append(EquityPoint(ms, total))
    return points


def _position(row: Any, when: Callable[[Any], datetime]) -> LedgerPosition:
    return LedgerPosition(row[0], row[1], Side.parse(row[2], "positions.side"), Decimal(row[3]),
                          Decimal(row[4] if row[4] is not None else 0),
                          when(row[5]) if row[5] is not None else None)  # fmt: skip


def _same(value: Any) -> Any:
    return value


class PostgresControlLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresControlLedger:
        return cls(await pg_pool.create_pool(dsn, min_size=1, max_size=2))

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self._pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def bots(self) -> list[BotRecord]:
        return [_record(r, Decimal, _same) for r in await self._fetch(_BOTS)]

    async def latest_equity(self) -> dict[str, EquitySnapshot]:
        return {r[0]: _snapshot(r, _same) for r in await self._fetch(_LATEST_EQUITY)}

    async def equity_curve(self, bot_id: str | None) -> list[EquityPoint]:
        if bot_id is None:
            return _curve(await self._fetch(_CURVE), None, _same)
        return _curve(await self._fetch(_CURVE + " WHERE bot_id = $1", bot_id), bot_id, _same)

    async def fill_tallies(self) -> list[FillTally]:
        found = await self._fetch(_PG_TALLIES)
        return [FillTally(r[0], r[1], int(r[2]), Decimal(r[3]), Decimal(r[4])) for r in found]

    async def open_positions(self) -> list[LedgerPosition]:
        found = [_position(r, _same) for r in await self._fetch(_OPEN)]
        return [p for p in found if p.size > 0]

    async def close(self) -> None:
        await self._pool.close()


class SqliteControlLedger:
    """A connection of its own to the ledger file (WAL lets it read beside the writers)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteControlLedger:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path))

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        def work(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(sql, args).fetchall()

        return await sqlite_schema.run_serialised(self._lock, self._conn, work)

    async def bots(self) -> list[BotRecord]:
        return [_record(r, Decimal, rows.time_from_text) for r in await self._fetch(_BOTS)]

    async def latest_equity(self) -> dict[str, EquitySnapshot]:
        found = await self._fetch(_LATEST_EQUITY)
        return {r[0]: _snapshot(r, rows.time_from_text) for r in found}

    async def equity_curve(self, bot_id: str | None) -> list[EquityPoint]:
        if bot_id is None:
            return _curve(await self._fetch(_CURVE), None, rows.time_from_text)
        found = await self._fetch(_CURVE + " WHERE bot_id = ?", bot_id)
        return _curve(found, bot_id, rows.time_from_text)

    async def fill_tallies(self) -> list[FillTally]:
        sums: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
        for bot_id, symbol, price, qty, fee in await self._fetch(_LITE_FILLS):
            entry = sums[(bot_id, symbol)]
            entry[0] += 1
            entry[1] += Decimal(price) * Decimal(qty)
            entry[2] += Decimal(fee)
        return [FillTally(b, s, n, v, f) for (b, s), (n, v, f) in sorted(sums.items())]

    async def open_positions(self) -> list[LedgerPosition]:
        found = [_position(r, rows.time_from_text) for r in await self._fetch(_OPEN)]
        return [p for p in found if p.size > 0]

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


async def open_control_ledger(url: str) -> PostgresControlLedger | SqliteControlLedger:
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresControlLedger.connect(parsed.asyncpg_dsn)
    if parsed.sqlite_path is None:
        raise ValueError("DATABASE_URL: an in-memory SQLite database holds no ledger")
    return await SqliteControlLedger.connect(parsed.sqlite_path)


if TYPE_CHECKING:  # mypy checks the shapes against the engine's port
    _pg: type[ControlLedger] = PostgresControlLedger
    _lite: type[ControlLedger] = SqliteControlLedger
