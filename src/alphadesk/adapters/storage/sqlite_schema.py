"""How SQLite gets a ``trading`` schema: the ledger file is ATTACHed as ``trading``.

SQLite has no ``CREATE SCHEMA``; the only namespace it has is the name an attached database goes
by. So every connection opens a private in-memory ``main`` and attaches the ledger file under the
name ``trading``: the seed's SQL (``FROM trading.fills``), the adapters' SQL and Alembic (its
version table included, ``version_table_schema='trading'``) all use the same qualified names on
SQLite as on PostgreSQL, and the file holds exactly the schema's tables. A tool that opens the file
directly sees the same tables as ``main.fills``.

Rejected alternative: keep the file as ``main`` and attach it a second time as ``trading``. That
opens two pagers on one file inside one connection, and a transaction that touches both names then
deadlocks on its own file lock.

Durability: WAL with ``synchronous=FULL``. In WAL mode ``NORMAL`` only syncs at checkpoints, so
the last commits before a power cut can roll back; the fill writer promises a fill is durable when
its call returns, so each commit syncs the WAL (``FULL``). The cost is one fsync per transaction,
which batching amortises.
"""

# SQL here is assembled from the schema constant and from table names read back from
# sqlite_master (quoted as identifiers); there are no values.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA = "trading"
BUSY_TIMEOUT_MS = 10_000

PRAGMAS: tuple[str, ...] = (
    f"PRAGMA {SCHEMA}.journal_mode=WAL",
    f"PRAGMA {SCHEMA}.synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
)

ATTACH_SQL = f"ATTACH DATABASE ? AS {SCHEMA}"


def attach(conn: sqlite3.Connection, path: Path) -> None:
    """Attach ``path`` as schema ``trading`` on ``conn`` and set the durability pragmas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn.execute(ATTACH_SQL, (str(path),))
    for pragma in PRAGMAS:
        conn.execute(pragma).fetchall()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class HalfMadeSchemaError(RuntimeError):
    """The ledger file has tables but no migration version, and some of them hold rows."""


def discard_half_made(execute: Callable[[str], Iterable[Any]]) -> list[str]:
    """Drop a schema that a first migration left half-made, so the migration can run afresh.

    Before upgrades ran in one transaction, a first migration killed half-way left some tables
    and no version row; every later upgrade then failed on "table ... already exists". Such a
    schema is recognised by tables without a version row. Only when every table is empty (no
    process can have written to a schema that was never fully made) is it dropped; a table with
    rows raises :class:`HalfMadeSchemaError` naming it rather than guessing. ``execute`` runs SQL
    inside the migration's transaction, so the drop and the new schema commit together. Returns
    the tables dropped (none for a new file or a migrated one).
    """
    listed = execute(
        f"SELECT type, name FROM {SCHEMA}.sqlite_master "
        "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    objects = [(str(kind), str(name)) for kind, name in listed]
    names = {name for _, name in objects}
    if not names:
        return []
    if "alembic_version" in names:
        (versions,) = next(iter(execute(f"SELECT count(*) FROM {SCHEMA}.alembic_version")))
        if versions:
            return []
    tables = [name for kind, name in objects if kind == "table"]
    with_rows = [
        name
        for name in tables
        if name != "alembic_version"
        and next(iter(execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{_quoted(name)})")))[0]
    ]
    if with_rows:
        raise HalfMadeSchemaError(
            f"the ledger has tables but no migration version, and {', '.join(with_rows)} hold "
            "rows: not dropping them; restore the file from a backup or move it aside"
        )
    for kind, name in objects:
        if kind == "view":
            execute(f"DROP VIEW {SCHEMA}.{_quoted(name)}")
    for name in tables:
        execute(f"DROP TABLE {SCHEMA}.{_quoted(name)}")
    return tables


def connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the ledger attached (Alembic and the CLI use this)."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    attach(conn, path)
    return conn


async def run_serialised(
    lock: asyncio.Lock, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]
) -> T:
    """Run ``fn(conn)`` in a worker thread, one call at a time per connection.

    A caller cancelled while its thread still works (a heartbeat task stopped at shutdown) must
    not free the connection to the next caller: that one would ``BEGIN`` inside the first one's
    transaction. So the lock is held until the thread is done, whatever happens to the caller.
    """
    async with lock:
        work = asyncio.ensure_future(asyncio.to_thread(fn, conn))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            await asyncio.wait({work})
            raise



async def run_transaction(
    lock: asyncio.Lock, conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]
) -> T:
    """``body(conn)`` inside ``BEGIN IMMEDIATE … COMMIT`` (``ROLLBACK`` on any error), run as
    :func:`run_serialised` runs it: the one write transaction every SQLite store uses."""

    def work(conn: sqlite3.Connection) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    return await run_serialised(lock, conn, work)
