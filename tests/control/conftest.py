"""Fixtures for the control facade: a migrated ledger (SQLite, or PostgreSQL through PgBouncer)
with the live state beside it (in process with SQLite, real Redis with PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage import migrate
from harness import keyspace
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

BACKENDS = ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])]


@dataclass
class Desk:
    """A migrated ledger URL and the live state a facade and the bots share."""

    backend: str
    url: str
    state: Any
    redis_url: str | None = None
    namespace: str = ""


@pytest_asyncio.fixture(params=BACKENDS)
async def desk(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Desk]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield Desk("sqlite", url, MemoryState())
        return
    async with _shared_desk(service_endpoints) as shared:
        yield shared


@pytest_asyncio.fixture
async def shared_desk(service_endpoints: ServiceEndpoints) -> AsyncIterator[Desk]:
    """PostgreSQL through PgBouncer and Redis: what bots in other processes share."""
    async with _shared_desk(service_endpoints) as shared:
        yield shared


@asynccontextmanager
async def _shared_desk(service_endpoints: ServiceEndpoints) -> AsyncIterator[Desk]:
    require(service_endpoints.postgres, service_endpoints.pgbouncer, service_endpoints.redis)
    redis_url = service_endpoints.redis.url
    async with (
        pgh.temporary_database(
            service_endpoints.postgres.url, service_endpoints.pgbouncer.url
        ) as db,
        keyspace.isolated_prefix(redis_url) as prefix,
    ):
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        state = RedisState.from_url(redis_url, namespace=prefix)
        try:
            yield Desk("postgres", db.bouncer_dsn, state, redis_url, prefix)
        finally:
            await state.aclose()
