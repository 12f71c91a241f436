"""Honouring Bybit's per-endpoint rate limits before Bybit has to enforce them.

Every V5 response carries ``X-Bapi-Limit-Status`` (requests left in the window) and
``X-Bapi-Limit-Reset-Timestamp`` (when the window refills, epoch ms). When an endpoint has nothing
left we wait for its reset instead of sending a request that would earn a 10006; when a 10006 (or
HTTP 429) comes anyway, :func:`backoff_delay` spaces the retries out with jitter so that several
bots sharing an IP do not retry in lockstep.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

STATUS_HEADER = "x-bapi-limit-status"
LIMIT_HEADER = "x-bapi-limit"
RESET_HEADER = "x-bapi-limit-reset-timestamp"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class LimitStatus:
    remaining: int | None
    limit: int | None
    reset_at_ms: int | None


def limit_status(headers: Mapping[str, str] | None) -> LimitStatus:
    if not headers:
        return LimitStatus(None, None, None)
    return LimitStatus(
        remaining=_int(_header(headers, STATUS_HEADER)),
        limit=_int(_header(headers, LIMIT_HEADER)),
        reset_at_ms=_int(_header(headers, RESET_HEADER)),
    )


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": between half and all of ``base * 2**attempt``."""
    ceiling: float = min(cap_s, base_s * float(2 ** max(0, attempt)))
    return ceiling / 2 + rng.random() * ceiling / 2


class RateLimitGate:
    """Per-endpoint memory of the last limit status; :meth:`wait` sleeps out an exhausted window."""

    def __init__(
        self, now_ms: Callable[[], int], *, max_wait_s: float = 10.0, margin_ms: int = 50
    ) -> None:
        self._now_ms = now_ms
        self._max_wait_s = max_wait_s
        # Our clock is Bybit's only to within the sync's error, and a request waits in queues on
        # the way: waking exactly at the reset lands some requests just before it (a 10006).
        self._margin_ms = margin_ms
        self._status: dict[str, LimitStatus] = {}

    def observe(self, endpoint: str, headers: Mapping[str, str] | None) -> LimitStatus:
        status = limit_status(headers)
        if status.remaining is not None:
            self._status[endpoint] = status
        return status

    def delay_for(self, endpoint: str) -> float:
        status = self._status.get(endpoint)
        if status is None or status.remaining is None or status.remaining > 0:
            return 0.0
        if status.reset_at_ms is None:
            return 0.0
        wait_ms = status.reset_at_ms + self._margin_ms - self._now_ms()
        return max(0.0, min(self._max_wait_s, wait_ms / 1000))

    async def wait(self, endpoint: str) -> float:
        delay = self.delay_for(endpoint)
        if delay > 0:
            await asyncio.sleep(delay)
        self._status.pop(endpoint, None)
        return delay
