"""The test harness itself: the servers are real, PgBouncer pools by transaction, cleanup works.

If these fail, every storage and bus test after them is suspect, so they prove what the others
take for granted: the per-run and per-test databases exist and answer both directly and through
PgBouncer, PgBouncer is in transaction pooling mode (which is why the application must run asyncpg
with statement_cache_size=0), Redis prefixes isolate tests and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from redis.asyncio import Redis

from harness import data, keyspace, postgres
from harness.postgres import PgDatabase, PgServer
from harness.services import (
    ALLOW_SKIP_ENV,
    PG_DSN_ENV,
    REDIS_URL_ENV,
    Service,
    ServiceEndpoints,
    require,
    unavailable_reason,
)

# ---------------------------------------------------------------------------------------------
# PostgreSQL and PgBouncer


async def _bouncer_conn(dsn: str, statement_cache_size: int = 0) -> Any:
    """A connection, PgBouncer-safe (no statement cache) unless asked otherwise."""
    return await asyncpg.connect(dsn, statement_cache_size=statement_cache_size, timeout=10)


async def _database_exists(admin_dsn: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def test_run_database_answers_directly_and_through_pgbouncer(
    pg_database: PgDatabase,
) -> None:
    assert re.fullmatch(rf"alphadesk_test_{os.getpid()}_[0-9a-f]{{8}}", pg_database.name)
    for dsn in (pg_database.direct_dsn, pg_database.bouncer_dsn):
        conn = await _bouncer_conn(dsn)
        try:
            assert await conn.fetchval("SELECT current_database()") == pg_database.name
        finally:
            await conn.close()
    assert pg_database.direct_dsn != pg_database.bouncer_dsn


async def test_fresh_database_is_empty_and_separate_from_the_run_database(
    fresh_pg_database: PgDatabase, pg_database: PgDatabase
) -> None:
    assert fresh_pg_database.name != pg_database.name
    conn = await _bouncer_conn(fresh_pg_database.bouncer_dsn)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        assert tables == 0
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    finally:
        await conn.close()


async def test_temporary_database_is_dropped_though_pgbouncer_holds_connections(
    pg_server: PgServer,
) -> None:
    conn = None
    try:
        async with postgres.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as db:
            # Leave a client connected through PgBouncer: the drop must still succeed.
            conn = await _bouncer_conn(db.bouncer_dsn)
            assert await conn.fetchval("SELECT 1") == 1
            assert await _database_exists(pg_server.direct_dsn, db.name)
        assert not await _database_exists(pg_server.direct_dsn, db.name)
    finally:
        if conn is not None:
            conn.terminate()


async def test_pgbouncer_admin_console_says_transaction_pooling(pg_server: PgServer) -> None:
    psql = shutil.which("psql")
    assert psql, "psql is missing: scripts/services.sh installs postgresql-client"
    url = ServiceEndpoints.from_env().pgbouncer
    host, port = url.address
    cmd = [psql, "-X", "-w", "-A", "-t", "-h", host, "-p", str(port), "-U", "postgres"]
    result = await asyncio.to_thread(
        subprocess.run,
        [*cmd, "-d", "pgbouncer", "-c", "SHOW CONFIG"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    config = {row.split("|")[0]: row.split("|")[1] for row in result.stdout.splitlines() if row}
    assert config["pool_mode"] == "transaction"
    assert config["default_pool_size"] == "20"
    assert config["max_client_conn"] == "500"


async def test_pgbouncer_pins_a_server_for_a_transaction_only(
    fresh_pg_database: PgDatabase,
) -> None:
    """Clients share server backends between transactions; within one, the backend is theirs."""
    a = await _bouncer_conn(fresh_pg_database.bouncer_dsn)
    b = None
    try:
        pid_a = await a.fetchval("SELECT pg_backend_pid()")
        # Connect b only now: the pool then holds exactly one idle backend, the one a just used.
        b = await _bouncer_conn(fresh_pg_database.bouncer_dsn)
        # a is idle between transactions, so its backend went back to the pool and b gets it.
        assert await b.fetchval("SELECT pg_backend_pid()") == pid_a
        async with a.transaction():
            in_txn = await a.fetchval("SELECT pg_backend_pid()")
            assert await a.fetchval("SELECT pg_backend_pid()") == in_txn
            # While a's transaction is open its backend is pinned, so b needs another one.
            assert await b.fetchval("SELECT pg_backend_pid()") != in_txn
    finally:
        await a.close()
        if b is not None:
            await b.close()


async def test_named_prepared_statements_do_not_survive_a_transaction(
    fresh_pg_database: PgDatabase,
) -> None:
    """Why the application runs asyncpg with statement_cache_size=0 behind PgBouncer 1.18."""
    a = await _bouncer_conn(fresh_pg_database.bouncer_dsn, statement_cache_size=100)
    b = None
    try:
        stmt = await a.prepare("SELECT $1::int + 1")  # named, on the one backend of the pool
        prepared_on = await a.fetchval("SELECT pg_backend_pid()")
        b = await _bouncer_conn(fresh_pg_database.bouncer_dsn)
        async with b.transaction():
            # b now holds that backend for its whole transaction...
            assert await b.fetchval("SELECT pg_backend_pid()") == prepared_on
            # ...so a runs on a new backend that never saw the statement.
            with pytest.raises(asyncpg.exceptions.InvalidSQLStatementNameError):
                await stmt.fetchval(1)
    finally:
        await a.close()
        if b is not None:
            await b.close()


async def test_pool_without_statement_cache_works_through_pgbouncer(
    fresh_pg_database: PgDatabase,
) -> None:
    pool = await asyncpg.create_pool(
        fresh_pg_database.bouncer_dsn, min_size=4, max_size=4, statement_cache_size=0
    )
    try:

        async def work(i: int) -> int:
            async with pool.acquire() as conn, conn.transaction():
                value: int = await conn.fetchval("SELECT $1::int * 2", i)
                return value

        assert await asyncio.gather(*(work(i) for i in range(200))) == [i * 2 for i in range(200)]
    finally:
        await pool.close()


# ---------------------------------------------------------------------------------------------
# Redis


async def test_redis_prefix_and_client(redis_prefix: str, redis_client: Redis) -> None:
    assert re.fullmatch(r"t:[0-9a-f]{12}:", redis_prefix)
    await redis_client.set(f"{redis_prefix}k", "v")
    assert await redis_client.get(f"{redis_prefix}k") == b"v"  # bytes: decode_responses=False


async def test_isolated_prefix_deletes_only_its_own_keys(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        async with keyspace.isolated_prefix(redis_url) as other:
            async with keyspace.isolated_prefix(redis_url) as mine:
                assert mine != other
                await client.mset({f"{mine}{i}": i for i in range(1_200)})  # > one SCAN batch
                await client.set(f"{other}keep", 1)
                assert len([k async for k in client.scan_iter(match=f"{mine}*")]) == 1_200
                assert [k async for k in client.scan_iter(match=f"{other}*")] == [
                    f"{other}keep".encode()
                ]
            assert [k async for k in client.scan_iter(match=f"{mine}*", count=1_000)] == []
            assert await client.get(f"{other}keep") == b"1"
        assert await client.exists(f"{other}keep") == 0
    finally:
        await client.aclose()


@pytest.mark.parametrize("bad", ["", "t:*", "t:?:", "t:[a]:"])
async def test_delete_prefix_refuses_patterns(bad: str, redis_client: Redis) -> None:
    with pytest.raises(ValueError, match="pattern-like"):
        await keyspace.delete_prefix(redis_client, bad)


# ---------------------------------------------------------------------------------------------
# Service discovery and the fail-not-skip rule


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_endpoints_default_to_what_services_sh_sets_up() -> None:
    endpoints = ServiceEndpoints.from_env({})
    assert endpoints.postgres.url == "postgresql://postgres@127.0.0.1:5432/postgres"
    assert endpoints.pgbouncer.url == "postgresql://postgres@127.0.0.1:6432/postgres"
    assert endpoints.redis.url == "redis://127.0.0.1:6379/0"
    assert endpoints.pgbouncer.address == ("127.0.0.1", 6432)
    custom = ServiceEndpoints.from_env({REDIS_URL_ENV: "redis://10.0.0.9/2", PG_DSN_ENV: ""})
    assert custom.redis.address == ("10.0.0.9", 6379)
    assert custom.postgres.url == endpoints.postgres.url


def test_missing_service_fails_by_name_unless_skipping_is_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _closed_port()
    dead = Service("PostgreSQL", f"postgresql://postgres@127.0.0.1:{port}/postgres", PG_DSN_ENV, 1)
    reason = unavailable_reason(dead)
    assert reason is not None
    assert f"PostgreSQL is not answering at 127.0.0.1:{port}" in reason
    assert PG_DSN_ENV in reason
    monkeypatch.delenv(ALLOW_SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is not answering"):
        require(dead)
    monkeypatch.setenv(ALLOW_SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not answering"):
        require(dead)


# ---------------------------------------------------------------------------------------------
# SQLite and the test data


async def test_sqlite_url_points_at_a_file_in_tmp(
    sqlite_url: str, sqlite_path: Path, tmp_path: Path
) -> None:
    assert sqlite_url == f"sqlite+aiosqlite:///{tmp_path}/ledger.db"
    assert sqlite_path.parent == tmp_path
    assert not await asyncio.to_thread(sqlite_path.exists)
    async with aiosqlite.connect(sqlite_path) as db:
        await db.execute("CREATE TABLE t (x)")
    assert await asyncio.to_thread(sqlite_path.is_file)


def test_repository_has_payloads_and_candles(
    payloads_dir: Path,
    bybit_payload: Callable[[str], Any],
    market_csv: Callable[[str], Path],
) -> None:
    assert payloads_dir.is_relative_to(data.REPO_ROOT)
    assert len(list(payloads_dir.glob("*.json"))) == 64
    assert all(d.is_relative_to(data.REPO_ROOT) for d in data.market_dirs())
    assert market_csv("BTCUSDT_1m_btc-perp-2022-01").parent == data.FIXTURE_MARKET_DIR
    executions = bybit_payload("http_get_executions")
    assert executions == bybit_payload("http_get_executions.json")
    assert executions["retCode"] == 0
    assert executions["result"]["list"]
    path = market_csv("BTCUSDT_4h_bybit-perp-20250924-20260721")
    with path.open(newline="") as f:
        assert next(csv.reader(f)) == ["ts_ms", "open", "high", "low", "close", "volume"]


def test_missing_data_files_say_what_is_there() -> None:
    with pytest.raises(data.DataFileMissingError, match="http_get_executions.json"):
        data.bybit_payload("no_such_payload")
    with pytest.raises(data.DataFileMissingError, match="BTCUSDT_1m_btc-perp-2022-01.csv"):
        data.market_csv("no_such_candles")
