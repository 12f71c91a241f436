"""Per-test Redis key prefixes, so tests share one Redis without seeing each other's keys."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

_BATCH = 500


def new_prefix() -> str:
    """A unique key prefix such as `t:3f9a0c1d2b4e:`."""
    return f"t:{secrets.token_hex(6)}:"


async def delete_prefix(client: Redis, prefix: str) -> int:
    """Delete every key that starts with `prefix` (SCAN + UNLINK, never KEYS); return how many."""
    if not prefix or any(ch in prefix for ch in "*?[]\\"):
        raise ValueError(f"refusing to delete by a pattern-like prefix: {prefix!r}")
    deleted = 0
    batch: list[bytes | str] = []
    async for key in client.scan_iter(match=f"{prefix}*", count=_BATCH):
        batch.append(key)
        if len(batch) >= _BATCH:
            deleted += await client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += await client.unlink(*batch)
    return deleted


@asynccontextmanager
async def isolated_prefix(redis_url: str) -> AsyncIterator[str]:
    """A fresh prefix for the block; all keys under it are deleted afterwards."""
    prefix = new_prefix()
    try:
        yield prefix
    finally:
        client = Redis.from_url(redis_url)
        try:
            await delete_prefix(client, prefix)
        finally:
            await client.aclose()
