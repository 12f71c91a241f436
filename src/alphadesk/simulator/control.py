"""The ``/sim/...`` control endpoints: the test-side handle on the clock and the faults.

Unsigned and outside ``/v5``, so no Bybit client can reach them by accident:
``GET /sim/state``, ``POST /sim/advance`` ``{"bars": n}`` or ``{"to_ms": t}``,
``GET|POST|DELETE /sim/faults`` (body: see :func:`alphadesk.simulator.faults.apply_spec`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from alphadesk.domain.errors import InvalidField
from alphadesk.simulator.exchange import SimExchange
from alphadesk.simulator.faults import apply_spec
from alphadesk.simulator.market_payloads import s


def state(exchange: SimExchange) -> dict[str, Any]:
    return {
        "nowMs": exchange.now_ms,
        "startMs": exchange.replay.start_ms,
        "stepMs": exchange.replay.step_ms,
        "exhausted": exchange.replay.exhausted,
        "prices": {sym: s(t.price) for sym, t in exchange.replay.tapes.items()},
        "faults": exchange.faults.describe(),
    }


def add_routes(app: web.Application, exchange: SimExchange) -> None:
    async def get_state(request: web.Request) -> web.Response:
        return web.json_response(state(exchange))

    async def advance(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        try:
            if "to_ms" in body:
                ticks = exchange.advance_to(int(body["to_ms"]))
            else:
                ticks = exchange.advance(int(body.get("bars", 1)))
        except (InvalidField, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({**state(exchange), "ticks": len(ticks)})

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(exchange.faults.describe())

    async def post_faults(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            apply_spec(exchange.faults, body if isinstance(body, dict) else {})
        except InvalidField as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(exchange.faults.describe())

    async def clear_faults(request: web.Request) -> web.Response:
        exchange.faults.clear()
        return web.json_response(exchange.faults.describe())

    app.router.add_get("/sim/state", get_state)
    app.router.add_post("/sim/advance", advance)
    app.router.add_get("/sim/faults", get_faults)
    app.router.add_post("/sim/faults", post_faults)
    app.router.add_delete("/sim/faults", clear_faults)
