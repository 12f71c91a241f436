"""Fixtures for the bot tests: a migrated ledger on SQLite and on PostgreSQL through PgBouncer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from alphadesk.adapters.storage import migrate
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture(params=BACKENDS)
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[str]:
    """A migrated ledger: a SQLite file, or a fresh PostgreSQL database reached via PgBouncer."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
        return
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    async with pgh.temporary_database(
        service_endpoints.postgres.url, service_endpoints.pgbouncer.url
    ) as db:
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        yield db.bouncer_dsn
