"""Throwaway PostgreSQL databases, one per run or per test, reached directly and via PgBouncer.

Databases are created from template0 (about 100 ms) and dropped WITH (FORCE), because PgBouncer
keeps server connections open to them after the clients have gone.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DB_PREFIX = "alphadesk_test_"
_NAME_RE = re.compile(rf"^{DB_PREFIX}(\d+)_[0-9a-f]+$")


@dataclass(frozen=True)
class PgServer:
    """The test PostgreSQL server, directly and through PgBouncer (database `postgres`)."""

    direct_dsn: str
    bouncer_dsn: str


@dataclass(frozen=True)
class PgDatabase:
    """An empty database of the test run, and the two ways to reach it."""

    name: str
    direct_dsn: str
    """Straight to PostgreSQL: for admin work and anything that needs session state."""
    bouncer_dsn: str
    """Through PgBouncer in transaction pooling mode, the way the application connects."""


def with_database(dsn: str, name: str) -> str:
    """`dsn` with its database replaced by `name`."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def new_database_name() -> str:
    """A unique name that also records our pid, so leftovers of dead runs can be found."""
    return f"{DB_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"


def _quoted(name: str) -> str:
    """The name as an identifier; only names this module makes are accepted."""
    if not _NAME_RE.match(name):
        raise ValueError(f"not a test database name: {name!r}")
    return f'"{name}"'


async def create_database(admin_dsn: str, bouncer_dsn: str, name: str | None = None) -> PgDatabase:
    """Create an empty database (from template0) and say how to reach it."""
    name = name or new_database_name()
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f"CREATE DATABASE {_quoted(name)} TEMPLATE template0")
    finally:
        await conn.close()
    return PgDatabase(name, with_database(admin_dsn, name), with_database(bouncer_dsn, name))


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop the database even while PgBouncer (or a leaked client) still holds connections to it."""
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
    finally:
        await conn.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def drop_stale_databases(admin_dsn: str) -> list[str]:
    """Drop test databases left by runs whose process is gone (killed runs skip their teardown)."""
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        names: list[str] = [
            row["datname"]
            for row in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{DB_PREFIX}%"
            )
        ]
    finally:
        await conn.close()
    stale = []
    for name in names:
        match = _NAME_RE.match(name)
        if match and not _pid_alive(int(match.group(1))):
            await drop_database(admin_dsn, name)
            stale.append(name)
    return stale


@asynccontextmanager
async def temporary_database(admin_dsn: str, bouncer_dsn: str) -> AsyncIterator[PgDatabase]:
    """A fresh database for the duration of the block, dropped afterwards whatever happened."""
    db = await create_database(admin_dsn, bouncer_dsn)
    try:
        yield db
    finally:
        await drop_database(admin_dsn, db.name)
