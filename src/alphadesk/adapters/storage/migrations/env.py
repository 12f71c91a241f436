"""Alembic environment: runs the revisions on PostgreSQL (asyncpg) or SQLite (sqlite3).

There is no sync PostgreSQL driver in the dependency set, so PostgreSQL goes through SQLAlchemy's
asyncpg dialect with the statement cache off and unique statement names: the same migration works
straight to PostgreSQL or through PgBouncer in transaction mode. The version table lives in the
``trading`` schema on both backends (on SQLite that is the attached ledger file; see
``sqlite_schema``), so the schema exists before Alembic looks for it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from alembic import context
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from alphadesk.adapters.storage import sqlite_schema
from alphadesk.adapters.storage.urls import parse

SCHEMA = sqlite_schema.SCHEMA
config = context.config


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
        transactional_ddl=connection.dialect.name == "postgresql",
        on_version_apply=_record,
    )
    with context.begin_transaction():
        context.run_migrations()


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
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
