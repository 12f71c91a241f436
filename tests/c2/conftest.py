"""Fixtures of the Telegram tests: a migrated ledger with the live state beside it (SQLite with
the in-process state, or PostgreSQL through PgBouncer with real Redis), and a fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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

from .fake_bot_api import FakeBotApi

TOKEN = "123456789:AAH-c2-test-token-abcdefghijklmnop"
BACKENDS = ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])]


@dataclass
class Ledger:
    backend: str
    url: str
    state: Any
    redis_url: str | None = None
    namespace: str = ""


@pytest_asyncio.fixture(params=BACKENDS)
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Ledger]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield Ledger("sqlite", url, MemoryState())
        return
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
            yield Ledger("postgres", db.bouncer_dsn, state, redis_url, prefix)
        finally:
            await state.aclose()


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
