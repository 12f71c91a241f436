"""Bot status and heartbeat: ``bot:{bot_id}:status`` and ``bot:{bot_id}:heartbeat``.

The heartbeat is the ISO-8601 time of the beat with a Redis TTL, so a dead bot's key expires by
itself and a watcher in another process sees "no heartbeat" without comparing clocks.
"""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.redis.position_codec import iso_ms, parse_iso_ms
from alphadesk.domain import checks
from alphadesk.engine.state_ports import check_ttl


def _text(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw


def check_status(status: object) -> str:
    return checks.text("bot.status", status, max_len=64)


class RedisBotStatusStore:
    def __init__(self, client: Redis, keys: Keys) -> None:
        self._client = client
        self._keys = keys

    async def set_status(self, bot_id: str, status: str) -> None:
        await self._client.set(self._keys.bot_status(bot_id), check_status(status))

    async def get_status(self, bot_id: str) -> str | None:
        return _text(await self._client.get(self._keys.bot_status(bot_id)))

    async def beat(self, bot_id: str, at: datetime, ttl_s: float) -> None:
        checks.utc("heartbeat.at", at)
        ttl_ms = max(1, round(check_ttl(ttl_s) * 1000))
        await self._client.set(self._keys.bot_heartbeat(bot_id), iso_ms(at), px=ttl_ms)

    async def last_heartbeat(self, bot_id: str) -> datetime | None:
        key = self._keys.bot_heartbeat(bot_id)
        raw = _text(await self._client.get(key))
        return None if raw is None else parse_iso_ms(key, raw)
