"""Fixtures for the control facade: a migrated ledger (SQLite, or PostgreSQL through PgBouncer)
with the live state beside it (in process with SQLite, real Redis with PostgreSQL); the desk
itself is ``harness.desk``'s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from harness import desk as desks
from harness.desk import BACKENDS, Desk
from harness.services import ServiceEndpoints

__all__ = ["Desk", "desk", "shared_desk"]


@pytest_asyncio.fixture(params=BACKENDS)
async def desk(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Desk]:
    async with desks.open_desk(request.param, tmp_path, service_endpoints) as opened:
        yield opened


@pytest_asyncio.fixture
async def shared_desk(service_endpoints: ServiceEndpoints) -> AsyncIterator[Desk]:
    """PostgreSQL through PgBouncer and Redis: what bots in other processes share."""
    async with desks.shared_desk(service_endpoints) as shared:
        yield shared
