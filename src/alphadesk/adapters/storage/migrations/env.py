"""Alembic environment: runs the revisions on PostgreSQL (asyncpg) or SQLite (sqlite3).

There is no sync PostgreSQL driver in the dependency set, so PostgreSQL goes through SQLAlchemy's
asyncpg dialect with the statement cache off and unique statement names: the same migration works
straight to PostgreSQL or through PgBouncer in transaction mode. The version table lives in the
``trading`` schema on both backends (on SQLite that is the attached ledger file; see
``sqlite_schema``), so the schema exists before Alembic looks for it.

Every upgrade is one transaction on both backends, the version table's row included, so a process
killed half-way leaves the database as it was before. On SQLite that takes care: Alembic treats
SQLite as having no transactional DDL, and the driver runs in autocommit mode, so each
``CREATE TABLE`` used to commit on its own (a first migration killed half-way left tables and an
empty ``alembic_version``, and every later upgrade failed on "table bots already exists"). Here
SQLAlchemy's ``begin`` emits ``BEGIN IMMEDIATE`` itself (its documented recipe for pysqlite) and
Alembic is told the DDL is transactional. A schema half-made by an older version is recognised
and rebuilt (see :func:`sqlite_schema.discard_half_made`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import uuid4

from alembic import context
from sqlalchemy import create_engine, event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from alphadesk.adapters.storage import sqlite_schema
from alphadesk.adapters.storage.urls import parse

SCHEMA = sqlite_schema.SCHEMA
config = context.config
_log = logging.getLogger("alphadesk.adapters.storage.migrations")


def _record(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    applied = config.attributes.setdefault("applied", [])
    verb = "upgraded to" if step.is_upgrade else "downgraded from"
    applied.append(f"{verb} {step.up_revision_id} ({step.up_revision.doc})")


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql" and not config.attributes.get("read_only"):
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table_schema=SCHEMA,
        transactional_ddl=True,  # both backends; on SQLite through the BEGIN emitted below
        on_version_apply=_record,
    )
    with context.begin_transaction():
        if connection.dialect.name == "sqlite" and not config.attributes.get("read_only"):
            dropped = sqlite_schema.discard_half_made(connection.exec_driver_sql)
            if dropped:
                _log.warning(
                    "the ledger held a schema an interrupted first migration left half-made "
                    "(no version recorded); dropped its empty %s and migrating afresh",
                    ", ".join(dropped),
                )
        # the original platform's schema is moved aside first, its bots carried over after
        # (adapters/storage/legacy.py), all in this one transaction
        adoption = config.attributes.get("adoption")
        if adoption is not None and not config.attributes.get("read_only"):
            adoption.before(connection)
        context.run_migrations()
        if adoption is not None and not config.attributes.get("read_only"):
            adoption.after(connection)


async def _run_postgres(url: str) -> None:
    engine = create_async_engine(
        url,
        poolclass=pool.NullPool,
        connect_args={
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__alphadesk_{uuid4().hex}__",
        },
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    url = parse(config.get_main_option("alphadesk.database_url"))
    if url.kind == "postgresql":
        asyncio.run(_run_postgres(url.sqlalchemy_url))
        return
    path = url.sqlite_path
    assert path is not None
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite_schema.connect(path), poolclass=pool.NullPool
    )
    # The driver is in autocommit mode (isolation_level=None): SQLAlchemy's begin() would send
    # nothing, so every statement would commit alone. IMMEDIATE takes the write lock up front, so
    # two processes upgrading one file run one after the other instead of failing half-way.
    begin = "BEGIN" if config.attributes.get("read_only") else "BEGIN IMMEDIATE"
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
