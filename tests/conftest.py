"""Fixtures for the real services (PostgreSQL, PgBouncer, Redis), SQLite files and the test data.

Services are found through the variables scripts/services.sh writes (see tests/harness/services.py).
A test that needs a service that does not answer FAILS, naming what is missing, so a CI run without
PostgreSQL cannot pass by skipping; set ALPHADESK_ALLOW_SKIP_SERVICES=1 to skip instead. Tests that
use a PostgreSQL or Redis fixture are marked `postgres` / `redis` automatically, so
`-m "not postgres and not redis"` runs everything that needs no server.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

# `harness` is importable whether or not tests/ is a package and whatever --import-mode is used.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from harness import data, keyspace, postgres  # noqa: E402
from harness.postgres import PgDatabase, PgServer  # noqa: E402
from harness.services import ServiceEndpoints, require  # noqa: E402

POSTGRES_FIXTURES = frozenset({"pg_server", "pg_database", "fresh_pg_database"})
REDIS_FIXTURES = frozenset({"redis_url", "redis_prefix", "redis_client"})


def pytest_report_header() -> list[str]:
    """Say in every run's header which servers and data the tests use."""
    endpoints = ServiceEndpoints.from_env()
    return [
        f"alphadesk services: postgres={endpoints.postgres.url} "
        f"pgbouncer={endpoints.pgbouncer.url} redis={endpoints.redis.url}",
        f"alphadesk test data: {data.PAYLOADS_DIR}, "
        + ", ".join(str(d) for d in data.market_dirs()),
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers their fixtures need, so `-m` can select or leave them out."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & POSTGRES_FIXTURES and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
        if names & REDIS_FIXTURES and item.get_closest_marker("redis") is None:
            item.add_marker(pytest.mark.redis)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `postgres` or `redis` fails up front, by name, when its server is missing."""
    endpoints = ServiceEndpoints.from_env()
    if item.get_closest_marker("postgres") is not None:
        require(endpoints.postgres, endpoints.pgbouncer)
    if item.get_closest_marker("redis") is not None:
        require(endpoints.redis)


@pytest.fixture(scope="session")
def service_endpoints() -> ServiceEndpoints:
    """The service URLs of this run (from the environment, or services.sh's defaults)."""
    return ServiceEndpoints.from_env()


# ---------------------------------------------------------------------------------------------
# PostgreSQL


@pytest.fixture(scope="session")
def pg_server(service_endpoints: ServiceEndpoints) -> PgServer:
    """The PostgreSQL server, directly and through PgBouncer; both must answer."""
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    return PgServer(service_endpoints.postgres.url, service_endpoints.pgbouncer.url)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_database(pg_server: PgServer) -> AsyncIterator[PgDatabase]:
    """One empty database for the whole run (`alphadesk_test_<pid>_<hex>`), dropped at the end.

    Tests sharing it must not depend on each other's rows; use `fresh_pg_database` for isolation.
    """
    await postgres.drop_stale_databases(pg_server.direct_dsn)
    async with postgres.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as db:
        yield db


@pytest_asyncio.fixture
async def fresh_pg_database(pg_server: PgServer) -> AsyncIterator[PgDatabase]:
    """An empty database for this test alone (about 100 ms to create), dropped after it."""
    async with postgres.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as db:
        yield db


# ---------------------------------------------------------------------------------------------
# Redis


@pytest.fixture(scope="session")
def redis_url(service_endpoints: ServiceEndpoints) -> str:
    """URL of the test Redis; it must answer. Tests share it, so keep keys under `redis_prefix`."""
    require(service_endpoints.redis)
    return service_endpoints.redis.url


@pytest_asyncio.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix unique to this test (`t:<hex>:`); every key under it is deleted afterwards."""
    async with keyspace.isolated_prefix(redis_url) as prefix:
        yield prefix


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """An asyncio Redis client (bytes in, bytes out), closed after the test."""
    client = Redis.from_url(redis_url, decode_responses=False)
    try:
        yield client
    finally:
        await client.aclose()


# ---------------------------------------------------------------------------------------------
# SQLite


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A not-yet-existing SQLite file in this test's temporary folder."""
    return tmp_path / "ledger.db"


@pytest.fixture
def sqlite_url(sqlite_path: Path) -> str:
    """SQLAlchemy async URL of `sqlite_path` (`sqlite+aiosqlite:////abs/path/ledger.db`)."""
    return f"sqlite+aiosqlite:///{sqlite_path}"


# ---------------------------------------------------------------------------------------------
# Test data carried by the repository (tests/fixtures/, src/alphadesk/data/market/)


@pytest.fixture(scope="session")
def payloads_dir() -> Path:
    """The folder of recorded Bybit payloads (tests/fixtures/bybit_payloads/)."""
    return data.payloads_dir()


@pytest.fixture(scope="session")
def bybit_payload() -> Callable[[str], Any]:
    """Loader of recorded Bybit payloads: `bybit_payload("http_get_executions")` -> parsed JSON."""
    return data.bybit_payload


@pytest.fixture(scope="session")
def market_csv() -> Callable[[str], Path]:
    """Finder of candle CSVs: `market_csv("BTCUSDT_4h_bybit-perp-20250924-20260721")` -> Path."""
    return data.market_csv


@pytest.fixture(scope="session")
def market_files() -> Callable[[str], list[Path]]:
    """Finder of candle CSVs by glob: `market_files("*_4h_bybit-perp-*.csv")` -> sorted Paths."""
    return data.market_files
