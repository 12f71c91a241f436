"""``trading.sync_status`` on PostgreSQL or SQLite: the sync's per-window rows and cursor.

Storage's side of :class:`alphadesk.engine.sync.SyncStatusStore`, on the table of migration
v0001 (no migration of its own). A window is one row, keyed by the table's unique
(bot_id, sync_type, start_time, end_time): :meth:`begin` upserts it as ``running`` (a window read
again after a stop reuses its row), :meth:`finish` marks it ``completed`` or ``failed`` with the
rows it added. Each statement commits on its own, so a row is durable when the call returns: a
process killed after a window's ``completed`` never reads that window again.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from alphadesk.adapters.storage import pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.engine.sync import SyncRow, SyncStatusStore

_COLUMNS = ("id, bot_id, sync_type, start_time, end_time, trades_synced, status, "
            "error_message, sync_started_at, sync_completed_at")
_INTERRUPTED = "interrupted: the process stopped during this window"


def _duration(seconds: float) -> Decimal:
    return Decimal(f"{max(seconds, 0.0):.3f}")


class PostgresSyncStatus:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresSyncStatus:
        return cls(await pg_pool.create_pool(dsn, min_size=1, max_size=2))

    async def begin(self, bot_id: str, sync_type: str, start: datetime, end: datetime,
                    at: datetime) -> int:
        async with self._pool.acquire() as conn:
            row_id = await conn.fetchval(
                "INSERT INTO trading.sync_status (bot_id, sync_type, start_time, end_time, "
                "status, trades_synced, sync_started_at) VALUES ($1, $2, $3, $4, 'running', 0, $5) "
                "ON CONFLICT (bot_id, sync_type, start_time, end_time) DO UPDATE SET "
                "status = 'running', trades_synced = 0, error_message = NULL, "
                "sync_started_at = EXCLUDED.sync_started_at, sync_completed_at = NULL, "
                "duration_seconds = NULL RETURNING id",
                bot_id, sync_type, start, end, at,
            )
        return int(row_id)

    async def finish(self, row_id: int, *, status: str, added: int, error: str | None,
                     at: datetime, duration_s: float) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE trading.sync_status SET status = $2, trades_synced = $3, "
                "error_message = $4, sync_completed_at = $5, duration_seconds = $6 "
                "WHERE id = $1",
                row_id, status, added, error, at, _duration(duration_s),
            )

    async def completed(self, bot_id: str) -> list[tuple[datetime, datetime]]:
        async with self._pool.acquire() as conn:
            found = await conn.fetch(
                "SELECT start_time, end_time FROM trading.sync_status "
                "WHERE bot_id = $1 AND status = 'completed'", bot_id,
            )
        return [(r["start_time"], r["end_time"]) for r in found]

    async def abandon_running(self, bot_id: str, at: datetime) -> int:
        async with self._pool.acquire() as conn:
            done = await conn.execute(
                "UPDATE trading.sync_status SET status = 'partial', error_message = $2, "
                "sync_completed_at = $3 WHERE bot_id = $1 AND status = 'running'",
                bot_id, _INTERRUPTED, at,
            )
        return int(done.split()[-1])

    async def recent(self, bot_id: str, limit: int) -> list[SyncRow]:
        async with self._pool.acquire() as conn:
            found = await conn.fetch(
                f"SELECT {_COLUMNS} FROM trading.sync_status WHERE bot_id = $1 "
                "ORDER BY sync_started_at DESC, id DESC LIMIT $2", bot_id, limit,
            )
        return [SyncRow(*tuple(r)) for r in found]

    async def close(self) -> None:
        await self._pool.close()


class SqliteSyncStatus:
    """One connection in a worker thread behind a lock, like the SQLite ledger."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteSyncStatus:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path))

    async def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        values = tuple(rows.sqlite_value(p) for p in params)
        return await sqlite_schema.run_transaction(self._lock, self._conn,
                                                   lambda conn: conn.execute(sql, values))

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return list(conn.execute(sql, tuple(rows.sqlite_value(p) for p in params)))

        return await sqlite_schema.run_serialised(self._lock, self._conn, work)

    async def begin(self, bot_id: str, sync_type: str, start: datetime, end: datetime,
                    at: datetime) -> int:
        await self._write(
            "INSERT INTO trading.sync_status (bot_id, sync_type, start_time, end_time, status, "
            "trades_synced, sync_started_at) VALUES (?, ?, ?, ?, 'running', 0, ?) "
            "ON CONFLICT (bot_id, sync_type, start_time, end_time) DO UPDATE SET "
            "status = 'running', trades_synced = 0, error_message = NULL, "
            "sync_started_at = excluded.sync_started_at, sync_completed_at = NULL, "
            "duration_seconds = NULL",
            (bot_id, sync_type, start, end, at),
        )
        found = await self._read(
            "SELECT id FROM trading.sync_status WHERE bot_id = ? AND sync_type = ? "
            "AND start_time = ? AND end_time = ?", (bot_id, sync_type, start, end),
        )
        return int(found[0][0])

    async def finish(self, row_id: int, *, status: str, added: int, error: str | None,
                     at: datetime, duration_s: float) -> None:
        await self._write(
            "UPDATE trading.sync_status SET status = ?, trades_synced = ?, error_message = ?, "
            "sync_completed_at = ?, duration_seconds = ? WHERE id = ?",
            (status, added, error, at, _duration(duration_s), row_id),
        )

    async def completed(self, bot_id: str) -> list[tuple[datetime, datetime]]:
        found = await self._read(
            "SELECT start_time, end_time FROM trading.sync_status "
            "WHERE bot_id = ? AND status = 'completed'", (bot_id,),
        )
        return [(rows.time_from_text(s), rows.time_from_text(e)) for s, e in found]

    async def abandon_running(self, bot_id: str, at: datetime) -> int:
        cursor = await self._write(
            "UPDATE trading.sync_status SET status = 'partial', error_message = ?, "
            "sync_completed_at = ? WHERE bot_id = ? AND status = 'running'",
            (_INTERRUPTED, at, bot_id),
        )
        return cursor.rowcount

    async def recent(self, bot_id: str, limit: int) -> list[SyncRow]:
        found = await self._read(
            f"SELECT {_COLUMNS} FROM trading.sync_status WHERE bot_id = ? "
            "ORDER BY sync_started_at DESC, id DESC LIMIT ?", (bot_id, limit),
        )
        return [
            SyncRow(r[0], r[1], r[2], rows.time_from_text(r[3]), rows.time_from_text(r[4]),
                    int(r[5]), r[6], r[7], rows.time_from_text(r[8]),
                    rows.time_from_text(r[9]) if r[9] else None)
            for r in found
        ]

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


async def open_sync_status(url: str | None = None) -> PostgresSyncStatus | SqliteSyncStatus:
    """The ``trading.sync_status`` store of ``url`` (default ``$DATABASE_URL``); schema migrated."""
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresSyncStatus.connect(parsed.asyncpg_dsn)
    assert parsed.sqlite_path is not None
    return await SqliteSyncStatus.connect(parsed.sqlite_path)


if TYPE_CHECKING:  # mypy checks both against the engine's port
    def _check(pg: PostgresSyncStatus, lite: SqliteSyncStatus) -> list[SyncStatusStore]:
        return [pg, lite]
