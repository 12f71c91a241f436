"""``trading.control_audit`` (migration 0005) on PostgreSQL and SQLite: every owner command.

Implements :class:`alphadesk.engine.control_ports.AuditLog`. The facade writes a row when it
publishes (or refuses) a command; the bot that applies it sets the outcome. Rows are keyed by
``command_id``, so a repeated write of one command changes nothing.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from alphadesk.adapters.storage import pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.domain import checks
from alphadesk.engine.control_ports import AuditEntry

if TYPE_CHECKING:
    from alphadesk.engine.control_ports import AuditLog

_COLUMNS = "command_id, at, actor, bot_id, command, args, outcome, applied_at"


def _values(entry: AuditEntry) -> tuple[Any, ...]:
    checks.utc("audit.at", entry.at)
    return (
        checks.text("audit.command_id", entry.command_id, max_len=64),
        entry.at,
        checks.text("audit.actor", entry.actor, max_len=100),
        checks.text("audit.bot_id", entry.bot_id, max_len=100, allow_empty=True),
        checks.text("audit.command", entry.command, max_len=32),
        json.dumps(dict(entry.args), sort_keys=True),
        checks.text("audit.outcome", entry.outcome, max_len=500),
        entry.applied_at,
    )


def _entry(row: Any, when: Callable[[Any], datetime]) -> AuditEntry:
    args = json.loads(row[5]) if row[5] else {}
    return AuditEntry(
        command_id=row[0], at=when(row[1]), actor=row[2], bot_id=row[3], command=row[4],
        args={str(k): str(v) for k, v in args.items()}, outcome=row[6],
        applied_at=when(row[7]) if row[7] is not None else None,
    )  # fmt: skip


def _same(value: Any) -> Any:
    return value


class PostgresAudit:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresAudit:
        return cls(await pg_pool.create_pool(dsn, min_size=1, max_size=2))

    async def record(self, entry: AuditEntry) -> None:
        await self._pool.execute(
            f"INSERT INTO trading.control_audit ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, "
            "$7, $8) ON CONFLICT (command_id) DO NOTHING",
            *_values(entry),
        )

    async def set_outcome(self, command_id: str, outcome: str, at: datetime) -> None:
        checks.utc("audit.applied_at", at)
        await self._pool.execute(
            "UPDATE trading.control_audit SET outcome = $2, applied_at = $3 WHERE command_id = $1",
            command_id, checks.text("audit.outcome", outcome[:500], max_len=500), at,
        )  # fmt: skip

    async def recent(self, *, bot_id: str | None = None, limit: int = 20) -> list[AuditEntry]:
        where, args = ("WHERE bot_id = $2 ", [bot_id]) if bot_id is not None else ("", [])
        found = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM trading.control_audit {where}ORDER BY at DESC, id DESC "
            "LIMIT $1",
            limit, *args,
        )  # fmt: skip
        return [_entry(r, _same) for r in found]

    async def close(self) -> None:
        await self._pool.close()


class SqliteAudit:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteAudit:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path))

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        await sqlite_schema.run_transaction(self._lock, self._conn,
                                            lambda conn: conn.execute(sql, params))

    async def record(self, entry: AuditEntry) -> None:
        await self._write(
            f"INSERT INTO trading.control_audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (command_id) DO NOTHING",
            tuple(rows.sqlite_value(v) for v in _values(entry)),
        )

    async def set_outcome(self, command_id: str, outcome: str, at: datetime) -> None:
        checks.utc("audit.applied_at", at)
        text = checks.text("audit.outcome", outcome[:500], max_len=500)
        await self._write(
            "UPDATE trading.control_audit SET outcome = ?, applied_at = ? WHERE command_id = ?",
            (text, rows.time_text(at), command_id),
        )

    async def recent(self, *, bot_id: str | None = None, limit: int = 20) -> list[AuditEntry]:
        where, args = ("WHERE bot_id = ? ", (bot_id,)) if bot_id is not None else ("", ())
        sql = (
            f"SELECT {_COLUMNS} FROM trading.control_audit {where}ORDER BY at DESC, id DESC LIMIT ?"
        )

        def work(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(sql, (*args, limit)).fetchall()

        found = await sqlite_schema.run_serialised(self._lock, self._conn, work)
        return [_entry(r, rows.time_from_text) for r in found]

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


async def open_audit(url: str) -> PostgresAudit | SqliteAudit:
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresAudit.connect(parsed.asyncpg_dsn)
    if parsed.sqlite_path is None:
        raise ValueError("DATABASE_URL: an in-memory SQLite database holds no ledger")
    return await SqliteAudit.connect(parsed.sqlite_path)


if TYPE_CHECKING:
    _pg: type[AuditLog] = PostgresAudit
    _lite: type[AuditLog] = SqliteAudit
