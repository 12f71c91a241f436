"""Fixtures for the ledger tests.

``ledger`` is a migrated store on SQLite (a file in tmp_path) and on PostgreSQL reached THROUGH
PgBouncer (a fresh database per test, created via the direct DSN, migrated with Alembic through
PgBouncer, dropped afterwards). ``make_fill`` builds real-looking fills shaped like the recorded
Bybit execution payload (ws_account_execution.json) with unique exec ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from ledger_support import Ledger, MakeFill, fill_builder, migrated_pg

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore
from harness import postgres as pgh
from harness.services import ServiceEndpoints

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture
async def pg_ledger_db(service_endpoints: ServiceEndpoints) -> AsyncIterator[pgh.PgDatabase]:
    """A fresh PostgreSQL database migrated to head through PgBouncer."""
    async for db in migrated_pg(service_endpoints):
        yield db


@pytest_asyncio.fixture(params=BACKENDS)
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Ledger]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        store: LedgerStore = await SqliteLedger.connect(tmp_path / "ledger.db")
        try:
            yield Ledger("sqlite", url, store, FillWriter(store))
        finally:
            await store.close()
        return
    async for db in migrated_pg(service_endpoints):
        store = await PostgresLedger.connect(db.bouncer_dsn)
        try:
            yield Ledger("postgres", db.bouncer_dsn, store, FillWriter(store))
        finally:
            await store.close()


@pytest.fixture
def make_fill() -> MakeFill:
    """Build a fill from the recorded execution, overriding any Bybit field by its wire name."""
    return fill_builder()
