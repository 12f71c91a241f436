"""Redis adapters of the state ports: positions, market prices, bot status and the event bus.

Every key name comes from :mod:`alphadesk.adapters.redis.keys`.
"""

from alphadesk.adapters.redis.bots import RedisBotStatusStore
from alphadesk.adapters.redis.bus import RedisEventBus, RedisStream
from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.redis.market import RedisMarketStore
from alphadesk.adapters.redis.positions import RedisPositionStore
from alphadesk.adapters.redis.state import RedisState

__all__ = [
    "Keys",
    "RedisBotStatusStore",
    "RedisEventBus",
    "RedisMarketStore",
    "RedisPositionStore",
    "RedisState",
    "RedisStream",
]
