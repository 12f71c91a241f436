"""Shared helpers for the adapter-against-simulator tests: accounts, config, event collection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from alphadesk.adapters.bybit import AccountConfig, Environment, RetryPolicy, Secret

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
KEY, SECRET = "BOTKEY01", "bot-secret-0123456789"
RISKY_KEY, RISKY_SECRET = "RISKYKEY", "risky-secret-0123456789"
FAST = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.2, max_resyncs=2)


def account_config(sim: Any, key: str = KEY, secret: str = SECRET) -> AccountConfig:
    return AccountConfig(
        "shortseller", key, Secret(secret), Environment.DEMO, base_url=sim.base_url
    )


class Collector:
    """Events from a stream, with a way to wait for the one a test expects."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Any) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Any], bool], within_s: float = 5.0) -> Any:
        async def first() -> Any:
            async with self._changed:
                while True:
                    for event in self.events:
                        if predicate(event):
                            return event
                    await self._changed.wait()

        return await asyncio.wait_for(first(), within_s)
