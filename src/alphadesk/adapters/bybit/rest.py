"""The REST core: one signed call to Bybit, with the error policy applied.

Endpoint modules (:mod:`market`, :mod:`trading`, :mod:`account`) call :meth:`BybitRest.call` with a
ccxt raw implicit method name (``privateGetV5ExecutionList``) and the wire type of its ``result``.
Here, and only here, the policy of :mod:`errors` is carried out: an exhausted rate-limit window is
waited out before sending; 10006/429 back off (to the window's reset when Bybit says when) and
retry; 10002 re-syncs the clock and retries; 10016/5xx/timeouts retry with jittered backoff;
everything else is raised to the caller at once. Cursor pagination lives here too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import ccxt

from alphadesk.adapters.bybit.clock import ServerClock
from alphadesk.adapters.bybit.config import AccountConfig
from alphadesk.adapters.bybit.errors import (
    BybitError,
    BybitUnavailable,
    RateLimited,
    TimestampRejected,
    from_ccxt,
)
from alphadesk.adapters.bybit.items import SkippedItem
from alphadesk.adapters.bybit.ratelimit import RateLimitGate, backoff_delay
from alphadesk.adapters.bybit.transport import Endpoints, build_exchange, endpoints_of
from alphadesk.adapters.bybit.wire import MalformedPayload, convert

log = logging.getLogger(__name__)
R = TypeVar("R")
X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 0.2
    cap_s: float = 5.0
    max_resyncs: int = 2


@dataclass(slots=True)
class RestStats:
    """Counters of what the error policy did, and of rows that could not be read (REST pages and
    the private stream alike): the operator's (and the tests') view of the client."""

    calls: int = 0
    retries: int = 0
    resyncs: int = 0
    rate_limited: int = 0
    gate_waits: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    skipped_items: int = 0
    skipped_by_source: dict[str, int] = field(default_factory=dict)

    def note_skipped(self, items: Sequence[SkippedItem]) -> None:
        """Count and log rows that were left out (by id and reason: rows carry no secrets)."""
        for item in items:
            self.skipped_items += 1
            self.skipped_by_source[item.where] = self.skipped_by_source.get(item.where, 0) + 1
            log.warning("bybit: skipped a %s row %s: %s", item.where, item.item_id, item.reason)


@dataclass(frozen=True, slots=True)
class Reply(Generic[R]):
    result: R
    time_ms: int


class BybitRest:
    def __init__(
        self,
        config: AccountConfig,
        *,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.policy = policy or RetryPolicy()
        self.clock = ServerClock()
        self.gate = RateLimitGate(self.clock.now_ms)
        self.stats = RestStats()
        self._exchange = build_exchange(config)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep

    def __repr__(self) -> str:
        return (
            f"BybitRest(account={self.config.account!r}, "
            f"environment={self.config.environment.value!r}, rest={self.endpoints.rest!r})"
        )

    @property
    def exchange(self) -> Any:
        """The configured ccxt object (for routing checks); callers must not bypass :meth:`call`."""
        return self._exchange

    @property
    def endpoints(self) -> Endpoints:
        return endpoints_of(self._exchange)

    async def close(self) -> None:
        await self._exchange.close()

    async def sync_clock(self) -> int:
        """Measure Bybit's clock (``/v5/market/time``) and sign from now on with the offset."""
        offset = await self.clock.sync(self._server_ms)
        # ccxt signs with milliseconds() - timeDifference.
        self._exchange.options["timeDifference"] = -offset
        return offset

    async def _server_ms(self) -> int:
        response = await self._send("publicGetV5MarketTime", {}, "/v5/market/time")
        result = response.get("result") or {}
        nano = result.get("timeNano") if isinstance(result, dict) else None
        if isinstance(nano, str) and nano.isdigit():
            return int(nano) // 1_000_000
        time_ms = response.get("time")
        if isinstance(time_ms, int) and time_ms > 0:
            return time_ms
        raise MalformedPayload("/v5/market/time.result", result, "has neither timeNano nor time")

    async def _send(self, method: str, params: dict[str, Any], endpoint: str) -> dict[str, Any]:
        """One request through ccxt, translated at the boundary: ccxt exceptions never escape."""
        exchange = self._exchange
        self.stats.calls += 1
        self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1
        try:
            response = await getattr(exchange, method)(params)
        except ccxt.BaseError as exc:
            status = self.gate.observe(endpoint, exchange.last_response_headers)
            raise from_ccxt(
                exc,
                endpoint=endpoint,
                last_body=exchange.last_json_response,
                reset_at_ms=status.reset_at_ms,
            ) from exc
        self.gate.observe(endpoint, exchange.last_response_headers)
        if not isinstance(response, dict):
            raise MalformedPayload(endpoint, str(response)[:200], "is not a JSON object")
        return response

    def _delay(self, error: BybitError, attempt: int) -> float:
        delay = backoff_delay(
            attempt, base_s=self.policy.base_s, cap_s=self.policy.cap_s, rng=self._rng
        )
        if isinstance(error, RateLimited) and error.reset_at_ms is not None:
            until_reset = (error.reset_at_ms - self.clock.now_ms()) / 1000
            delay = max(delay, min(until_reset, self.policy.cap_s))
        return delay

    async def call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        endpoint: str,
        result_type: type[R],
        accept: frozenset[int] = frozenset(),
        retry_unavailable: bool = True,
    ) -> Reply[R] | None:
        """Call and decode ``result``; None when Bybit answered one of the ``accept`` codes."""
        resyncs = 0
        attempt = 0
        while True:
            if await self.gate.wait(endpoint) > 0:
                self.stats.gate_waits += 1
            try:
                response = await self._send(method, params, endpoint)
            except BybitError as error:
                error.attempts = attempt + 1
                if error.ret_code is not None and error.ret_code in accept:
                    return None
                if isinstance(error, TimestampRejected) and resyncs < self.policy.max_resyncs:
                    resyncs += 1
                    self.stats.resyncs += 1
                    await self.sync_clock()
                    continue
                retryable = isinstance(error, RateLimited) or (
                    retry_unavailable and isinstance(error, BybitUnavailable)
                )
                if not retryable or attempt + 1 >= self.policy.max_attempts:
                    raise
                if isinstance(error, RateLimited):
                    self.stats.rate_limited += 1
                self.stats.retries += 1
                await self._sleep(self._delay(error, attempt))
                attempt += 1
                continue
            time_ms = response.get("time")
            result = convert(response.get("result"), result_type, endpoint)
            return Reply(result, time_ms if isinstance(time_ms, int) else self.clock.now_ms())

    async def get(
        self, method: str, params: dict[str, Any], *, endpoint: str, result_type: type[R]
    ) -> Reply[R]:
        reply = await self.call(method, params, endpoint=endpoint, result_type=result_type)
        assert reply is not None  # no accept codes were given
        return reply

    async def pages(
        self,
        method: str,
        params: dict[str, Any],
        *,
        endpoint: str,
        result_type: type[R],
        items: Callable[[R], Sequence[X]],
        cursor: Callable[[R], str | None],
        max_pages: int = 10_000,
    ) -> AsyncIterator[list[X]]:
        """Follow ``nextPageCursor`` until it is blank, a page is empty, or a cursor repeats."""
        seen: set[str] = set()
        query = dict(params)
        for _ in range(max_pages):
            reply = await self.get(method, query, endpoint=endpoint, result_type=result_type)
            page = list(items(reply.result))
            if page:
                yield page
            next_cursor = cursor(reply.result)
            if not page or not next_cursor or next_cursor in seen:
                return
            seen.add(next_cursor)
            query = {**params, "cursor": next_cursor}
        raise MalformedPayload(f"{endpoint}.nextPageCursor", None, f"over {max_pages} pages")
