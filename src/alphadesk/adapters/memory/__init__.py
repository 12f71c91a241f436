"""In-process implementations of the state ports: the embedded mode and engine tests.

They keep the Redis adapters' semantics (ordered position writes, consumer groups with pending
entries and claims, expiring heartbeats), so code that works here works on Redis.
"""

from alphadesk.adapters.memory.bus import MemoryEventBus, MemoryStream
from alphadesk.adapters.memory.spool import MemorySpool
from alphadesk.adapters.memory.stores import (
    MemoryBotStatusStore,
    MemoryMarketStore,
    MemoryPositionStore,
)


class MemoryState:
    """``positions``, ``market``, ``bots`` and ``bus`` of one process, like ``RedisState``."""

    def __init__(self) -> None:
        self.positions = MemoryPositionStore()
        self.market = MemoryMarketStore()
        self.bots = MemoryBotStatusStore()
        self.bus = MemoryEventBus()

    async def aclose(self) -> None:
        return None


__all__ = [
    "MemoryBotStatusStore",
    "MemoryEventBus",
    "MemoryMarketStore",
    "MemoryPositionStore",
    "MemorySpool",
    "MemoryState",
    "MemoryStream",
]
