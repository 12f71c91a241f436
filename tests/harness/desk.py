"""A migrated ledger with the live state beside it: the desk the control, Telegram and web tests
read and command.

Two backends: SQLite with the in-process state, or PostgreSQL through PgBouncer with real Redis
(what bots in other processes share), in a temporary database and under a key prefix of the
test's own. The tests seed it themselves (``control.control_support.seed``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


@asynccontextmanager
async def open_desk(
    backend: str, folder: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Desk]:
    """``sqlite`` (the ledger file in ``folder``) or ``postgres`` (see :func:`shared_desk`)."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield Desk("sqlite", url, MemoryState())
        return
    async with shared_desk(service_endpoints) as shared:
        yield shared


@asynccontextmanager
async def shared_desk(service_endpoints: ServiceEndpoints) -> AsyncIterator[Desk]:
    """PostgreSQL through PgBouncer and Redis: what bots in other processes share."""
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
