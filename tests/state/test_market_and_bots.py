"""Market prices and bot status/heartbeat, on Redis and in process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.domain.errors import InvalidField

D = Decimal

State = RedisState | MemoryState
T0 = datetime(2025, 11, 7, 1, 55, 0, 123456, tzinfo=UTC)


async def test_prices_and_volumes_keep_their_digits(state: State) -> None:
    await state.market.set_market("BTCUSDT", D("95900.10"), D("1234.500"))
    await state.market.set_markets({"ETHUSDT": D("3500.5"), "BTCUSDT": D("95901.00")})
    assert await state.market.get_price("BTCUSDT") == D("95901.00")
    assert str(await state.market.get_price("BTCUSDT")) == "95901.00"
    assert str(await state.market.get_volume("BTCUSDT")) == "1234.500"
    assert await state.market.get_prices(["BTCUSDT", "ETHUSDT", "NOPEUSDT"]) == {
        "BTCUSDT": D("95901.00"),
        "ETHUSDT": D("3500.5"),
    }
    assert await state.market.get_price("NOPEUSDT") is None


async def test_a_float_price_is_refused(state: State) -> None:
    with pytest.raises(InvalidField) as err:
        await state.market.set_market("BTCUSDT", 95900.1)  # type: ignore[arg-type]
    assert err.value.field == "market.price"


async def test_status_and_expiring_heartbeat(state: State) -> None:
    assert await state.bots.get_status("lxalgo_001") is None
    await state.bots.set_status("lxalgo_001", "running")
    assert await state.bots.get_status("lxalgo_001") == "running"
    await state.bots.beat("lxalgo_001", T0, ttl_s=0.15)
    assert await state.bots.last_heartbeat("lxalgo_001") == T0.replace(microsecond=123000)
    for _ in range(1000):  # until it expires on the store's own clock (a wait, not a claim)
        if await state.bots.last_heartbeat("lxalgo_001") is None:
            break
        await asyncio.sleep(0.01)
    assert await state.bots.last_heartbeat("lxalgo_001") is None
    assert await state.bots.get_status("lxalgo_001") == "running"  # status does not expire


@pytest.mark.redis
async def test_market_keys_are_the_seed_names(
    redis_url: str, redis_prefix: str, redis_client: Redis
) -> None:
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        await state.market.set_market("BTCUSDT", D("95900.1"), D("12"))
        await state.bots.set_status("shortseller_001", "halted")
    finally:
        await state.aclose()
    assert await redis_client.get(f"{redis_prefix}market:BTCUSDT:price") == b"95900.1"
    assert await redis_client.get(f"{redis_prefix}market:BTCUSDT:volume") == b"12"
    assert await redis_client.get(f"{redis_prefix}bot:shortseller_001:status") == b"halted"
