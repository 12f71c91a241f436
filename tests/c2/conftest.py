"""Fixtures of the Telegram tests: a migrated ledger with the live state beside it (SQLite with
the in-process state, or PostgreSQL through PgBouncer with real Redis: ``harness.desk``), and a
fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from harness.desk import BACKENDS, open_desk
from harness.desk import Desk as Ledger
from harness.services import ServiceEndpoints

from .fake_bot_api import FakeBotApi

__all__ = ["TOKEN", "Ledger", "api", "ledger"]

TOKEN = "123456789:AAH-c2-test-token-abcdefghijklmnop"


@pytest_asyncio.fixture(params=BACKENDS)
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[Ledger]:
    async with open_desk(request.param, tmp_path, service_endpoints) as opened:
        yield opened


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
