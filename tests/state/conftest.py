"""Fixtures of the state tests: the same behaviour checked on Redis and in process.

``state`` is parametrised: ``redis`` runs on the real Redis under this test's own key prefix
(deleted afterwards, as the shared ``redis_prefix`` fixture does), ``memory`` in process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse import fill_from_execution
from alphadesk.adapters.bybit.wire import convert
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.domain.fills import Fill
from harness import keyspace  # type: ignore[import-not-found]

BACKENDS = [pytest.param("redis", marks=pytest.mark.redis), pytest.param("memory")]


@pytest_asyncio.fixture(params=BACKENDS)
async def state(request: pytest.FixtureRequest) -> AsyncIterator[RedisState | MemoryState]:
    if request.param == "memory":
        yield MemoryState()
        return
    url = request.getfixturevalue("redis_url")  # sync: fails by name when Redis is missing
    async with keyspace.isolated_prefix(url) as prefix:  # what `redis_prefix` does, in-loop
        # named after its prefix: a test can tell this state's connections (CLIENT LIST)
        client = Redis.from_url(url, decode_responses=False, client_name=prefix)
        redis_state = RedisState(client, namespace=prefix)
        try:
            yield redis_state
        finally:
            await redis_state.aclose()


@pytest.fixture(scope="session")
def real_fills(bybit_payload: Any) -> list[Fill]:
    """Fills parsed from the recorded Bybit payloads (REST history, a WS execution, an ADL)."""
    result = convert(bybit_payload("http_get_executions")["result"], w.ExecutionsResult, "rest")
    fills = [fill_from_execution(e, "acct-1", default_bot="shortseller_001") for e in result.list]
    for name in ("ws_account_execution", "ws_account_execution_adl"):
        for execution in convert(bybit_payload(name)["data"], list[w.ExecutionInfo], name):
            fills.append(fill_from_execution(execution, "acct-2", default_bot="lxalgo_001"))
    assert len(fills) >= 4
    return fills
