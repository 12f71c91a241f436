"""Both implementations satisfy the ports by shape (mypy checks the annotated assignments)."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from alphadesk.adapters.memory import MemorySpool, MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.engine.state_ports import (
    BotStatusStore,
    EventBus,
    FillSpool,
    MarketStateStore,
    PositionStore,
)


async def test_redis_and_memory_state_fit_the_ports(tmp_path: Path) -> None:
    redis_state = RedisState(Redis(), namespace="t:unused:")  # never connects: nothing is sent
    for state in (redis_state, MemoryState()):
        positions: PositionStore = state.positions
        market: MarketStateStore = state.market
        bots: BotStatusStore = state.bots
        bus: EventBus = state.bus
        assert {positions, market, bots, bus} and bus.fills.name.endswith("events:fills")
        assert bus.bars.name.endswith("events:bars")
    await redis_state.aclose()
    spools: list[FillSpool] = [DiskSpool(tmp_path), MemorySpool()]
    for spool in spools:
        assert spool.depth().records == 0
        spool.close()
