"""Our estimate of Bybit's clock.

Bybit refuses a signed request whose timestamp is more than ``recv_window`` away from its own
time (retCode 10002). The local clock of a container drifts, so we measure the offset against
``/v5/market/time`` at start-up and again whenever Bybit says we are off, and sign with
``local + offset``. The round trip is split in half: the server read its clock mid-flight.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


def local_ms() -> int:
    return time.time_ns() // 1_000_000


class ServerClock:
    def __init__(self, now: Callable[[], int] = local_ms) -> None:
        self._now = now
        self.offset_ms = 0
        self.synced = False

    def now_ms(self) -> int:
        """Bybit's current time in epoch ms, as far as we know it."""
        return self._now() + self.offset_ms

    async def sync(self, fetch_server_ms: Callable[[], Awaitable[int]]) -> int:
        """Measure and store the offset (server minus local); returns it."""
        before = self._now()
        server = await fetch_server_ms()
        after = self._now()
        self.offset_ms = server - (before + after) // 2
        self.synced = True
        return self.offset_ms
