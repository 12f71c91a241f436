"""``trading.bots`` on PostgreSQL (through PgBouncer) and SQLite: a bot's registration row.

Registration is an upsert that keeps ``created_at``; heartbeats and status changes are single
UPDATEs. The PostgreSQL pool runs with ``statement_cache_size=0`` for PgBouncer's transaction
mode, as the ledger's does. SQLite stores money as ``str(Decimal)`` and times as the ledger's
fixed-width ISO text (see the migration), so both read back exactly.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from alphadesk.adapters.storage import pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.domain import checks
from alphadesk.engine.bot_registry import BotRecord, BotRegistry, check_status

T = TypeVar("T")

_COLUMNS = (
    "bot_id",
    "bot_name",
    "bot_type",
    "strategy_name",
    "status",
    "deployment_mode",
    "initial_capital",
    "current_equity",
    "last_heartbeat",
)
_UPDATABLE = _COLUMNS[1:]
_COLS = ", ".join(_COLUMNS)


def _values(record: BotRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, c) for c in _COLUMNS)


class PostgresBots:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresBots:
        pool = await pg_pool.create_pool(dsn, min_size=1, max_size=2)
        return cls(pool)

    async def register(self, record: BotRecord) -> None:
        params = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATABLE)
        await self._pool.execute(
            f"INSERT INTO trading.bots ({_COLS}) VALUES ({params}) "
            f"ON CONFLICT (bot_id) DO UPDATE SET {sets}, updated_at = now()",
            *_values(record),
        )

    async def heartbeat(self, bot_id: str, at: datetime, *, equity: Decimal | None = None) -> None:
        checks.utc("bot.last_heartbeat", at)
        await self._pool.execute(
            "UPDATE trading.bots SET last_heartbeat = $2, "
            "current_equity = COALESCE($3, current_equity), updated_at = now() "
            "WHERE bot_id = $1",
            bot_id,
            at,
            equity,
        )

    async def set_status(self, bot_id: str, status: str) -> None:
        await self._pool.execute(
            "UPDATE trading.bots SET status = $2, updated_at = now() WHERE bot_id = $1",
            bot_id,
            check_status(status),
        )

    async def get(self, bot_id: str) -> BotRecord | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLS} FROM trading.bots WHERE bot_id = $1", bot_id
        )
        return None if row is None else BotRecord(**dict(row))

    async def close(self) -> None:
        await self._pool.close()


_NOW = "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"


class SqliteBots:
    """One connection in a worker thread behind a lock, like the SQLite ledger."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteBots:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path))

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await sqlite_schema.run_serialised(self._lock, self._conn, fn)

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        await sqlite_schema.run_transaction(self._lock, self._conn,
                                            lambda conn: conn.execute(sql, params))

    async def register(self, record: BotRecord) -> None:
        marks = ", ".join("?" for _ in _COLUMNS)
        sets = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
        await self._execute(
            f"INSERT INTO trading.bots ({_COLS}) VALUES ({marks}) "
            f"ON CONFLICT (bot_id) DO UPDATE SET {sets}, updated_at = {_NOW}",
            tuple(rows.sqlite_value(v) for v in _values(record)),
        )

    async def heartbeat(self, bot_id: str, at: datetime, *, equity: Decimal | None = None) -> None:
        checks.utc("bot.last_heartbeat", at)
        await self._execute(
            "UPDATE trading.bots SET last_heartbeat = ?, "
            f"current_equity = COALESCE(?, current_equity), updated_at = {_NOW} "
            "WHERE bot_id = ?",
            (rows.sqlite_value(at), rows.sqlite_value(equity), bot_id),
        )

    async def set_status(self, bot_id: str, status: str) -> None:
        await self._execute(
            f"UPDATE trading.bots SET status = ?, updated_at = {_NOW} WHERE bot_id = ?",
            (check_status(status), bot_id),
        )

    async def get(self, bot_id: str) -> BotRecord | None:
        def work(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            cursor = conn.execute(f"SELECT {_COLS} FROM trading.bots WHERE bot_id = ?", (bot_id,))
            found: tuple[Any, ...] | None = cursor.fetchone()
            return found

        row = await self._run(work)
        if row is None:
            return None
        data = dict(zip(_COLUMNS, row, strict=True))
        for money in ("initial_capital", "current_equity"):
            if data[money] is not None:
                data[money] = Decimal(data[money])
        if data["last_heartbeat"] is not None:
            data["last_heartbeat"] = rows.time_from_text(data["last_heartbeat"])
        return BotRecord(**data)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


async def open_bots(url: str | None = None) -> BotRegistry:
    """The ``trading.bots`` store of ``url`` (default ``$DATABASE_URL``); schema migrated."""
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresBots.connect(parsed.asyncpg_dsn)
    assert parsed.sqlite_path is not None
    return await SqliteBots.connect(parsed.sqlite_path)
