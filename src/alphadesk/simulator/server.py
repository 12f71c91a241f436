"""Assembling the simulator: one aiohttp app, one port, REST + both WebSockets + ``/sim`` control.

:func:`run_simulator` is the in-process entry point for tests and the demo; the CLI command wraps
it. With ``speed`` set, a pacing task moves the replay clock ``speed`` simulated seconds per real
second; without it the clock moves only when told (``sim.advance(bars=n)`` or ``POST
/sim/advance``), which is what deterministic tests want.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.domain.errors import InvalidField
from alphadesk.simulator import control, routes_account, routes_market, routes_trade, ws
from alphadesk.simulator.accounts import SimAccount
from alphadesk.simulator.candles import CandleSeries, load_candles
from alphadesk.simulator.exchange import SimExchange
from alphadesk.simulator.faults import Faults
from alphadesk.simulator.http_common import endpoint
from alphadesk.simulator.ratelimits import RateLimits
from alphadesk.simulator.replay import Tick

PACE_TICK_S = 0.05


def _count_requests(exchange: SimExchange) -> Any:
    @web.middleware
    async def count(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        exchange.requests[request.path] += 1
        return await handler(request)

    return count


def build_app(exchange: SimExchange) -> web.Application:
    app = web.Application(middlewares=[_count_requests(exchange)])
    limits = exchange.rate_windows
    for path, handler in routes_market.ROUTES.items():
        app.router.add_get(path, endpoint(exchange, limits, handler, private=False))
    for path, handler in {**routes_trade.GET, **routes_account.GET}.items():
        app.router.add_get(path, endpoint(exchange, limits, handler, private=True))
    for path, handler in routes_trade.POST.items():
        app.router.add_post(path, endpoint(exchange, limits, handler, private=True))

    async def public(request: web.Request) -> web.StreamResponse:
        return await ws.serve(request, exchange, "public")

    async def private(request: web.Request) -> web.StreamResponse:
        return await ws.serve(request, exchange, "private")

    app.router.add_get("/v5/public/linear", public)
    app.router.add_get("/v5/private", private)
    control.add_routes(app, exchange)
    return app


@dataclass
class Simulator:
    """A running simulator: URLs for clients, and the in-process handles for tests."""

    exchange: SimExchange
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def public_ws_url(self) -> str:
        return f"{self.ws_url}/v5/public/linear"

    @property
    def private_ws_url(self) -> str:
        return f"{self.ws_url}/v5/private"

    @property
    def faults(self) -> Faults:
        return self.exchange.faults

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/sim"

    @property
    def now_ms(self) -> int:
        return self.exchange.now_ms

    def advance(self, bars: int = 1) -> list[Tick]:
        return self.exchange.advance(bars)

    def advance_to(self, time_ms: int) -> list[Tick]:
        return self.exchange.advance_to(time_ms)


async def _pace(exchange: SimExchange, speed: float) -> None:
    last = time.monotonic()
    while not exchange.replay.exhausted:
        await asyncio.sleep(PACE_TICK_S)
        now = time.monotonic()
        step = int((now - last) * speed * 1000)
        if step > 0:
            exchange.advance_to(exchange.now_ms + step)
            last = now


def _series(data: Sequence[Path | str | CandleSeries]) -> list[CandleSeries]:
    return [d if isinstance(d, CandleSeries) else load_candles(d) for d in data]


@contextlib.asynccontextmanager
async def run_simulator(
    data: Sequence[Path | str | CandleSeries],
    accounts: Sequence[SimAccount],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float | None = None,
    start_ms: int | None = None,
    history_bars: int = 200,
    config: SimConfig | None = None,
    seed: int = 0,
    rate_limits: RateLimits | None = None,
) -> AsyncIterator[Simulator]:
    """Serve until the block exits; ``port=0`` picks a free port (see ``sim.port``).

    ``accounts`` may be empty (market data only). ``rate_limits`` defaults to Bybit's order
    limits (10/s per key and endpoint, refused with 10006) and reported-only limits elsewhere.
    """
    if speed is not None and speed <= 0:
        raise InvalidField("speed", speed, "must be > 0")
    exchange = SimExchange(_series(data), accounts, start_ms=start_ms,
                           history_bars=history_bars, config=config, seed=seed,
                           rate_limits=rate_limits)
    runner = web.AppRunner(build_app(exchange), handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    pacer = asyncio.create_task(_pace(exchange, speed)) if speed else None
    try:
        yield Simulator(exchange, host, bound)
    finally:
        if pacer is not None:
            pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pacer
        await runner.cleanup()
