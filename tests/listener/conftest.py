"""Fixtures of the listener tests: a migrated ledger (SQLite, and PostgreSQL through PgBouncer),
the state store and bus on the real Redis (own key namespace), and an on-disk spool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from listener_support import Ledger, State, redis_state, sqlite_ledger
from redis.asyncio import Redis

from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.engine.ledger import FillWriter
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture(params=BACKENDS)
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Ledger]:
    if request.param == "sqlite":
        made = await sqlite_ledger(tmp_path / "ledger.db")
        try:
            yield made
        finally:
            await made.store.close()
        return
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    async with pgh.temporary_database(
        service_endpoints.postgres.url, service_endpoints.pgbouncer.url
    ) as db:
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        store = await PostgresLedger.connect(db.bouncer_dsn)
        try:
            yield Ledger("postgres", store, FillWriter(store), db.bouncer_dsn)
        finally:
            await store.close()


@pytest_asyncio.fixture
async def state(redis_url: str, redis_prefix: str) -> AsyncIterator[State]:
    client = Redis.from_url(redis_url)
    try:
        yield redis_state(client, redis_prefix)
    finally:
        await client.aclose()


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[DiskSpool]:
    made = DiskSpool(tmp_path / "spool", max_records=10_000)
    yield made
    made.close()
