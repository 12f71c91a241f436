"""All the Redis-backed state ports over one connection pool, built from a URL."""

from __future__ import annotations

from redis.asyncio import Redis

from alphadesk.adapters.redis.bots import RedisBotStatusStore
from alphadesk.adapters.redis.bus import RedisEventBus
from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.redis.market import RedisMarketStore
from alphadesk.adapters.redis.positions import RedisPositionStore
from alphadesk.engine.state_ports import STREAM_MAXLEN


class RedisState:
    """``positions``, ``market``, ``bots`` and ``bus`` sharing one client (and its pool)."""

    def __init__(self, client: Redis, *, namespace: str = "", maxlen: int = STREAM_MAXLEN) -> None:
        self.client = client
        self.keys = Keys(namespace)
        self.positions = RedisPositionStore(client, self.keys)
        self.market = RedisMarketStore(client, self.keys)
        self.bots = RedisBotStatusStore(client, self.keys)
        self.bus = RedisEventBus(client, self.keys, maxlen=maxlen)

    @classmethod
    def from_url(cls, url: str, *, namespace: str = "", maxlen: int = STREAM_MAXLEN) -> RedisState:
        """hiredis parses replies when installed (``redis[hiredis]``); keys stay bytes-safe."""
        return cls(Redis.from_url(url, decode_responses=False), namespace=namespace, maxlen=maxlen)

    async def aclose(self) -> None:
        await self.client.aclose()
