"""The ``/sim/...`` control endpoints: the test-side handle on the clock and the faults.

Unsigned and outside ``/v5``, so no Bybit client can reach them by accident:
``GET /sim/state``, ``POST /sim/advance`` ``{"bars": n}`` or ``{"to_ms": t}``,
``GET|POST|DELETE /sim/faults`` (body: see :func:`alphadesk.simulator.faults.apply_spec`),
``POST /sim/history`` (months of generated history for one account: :func:`generate_history`).

An advance is checked first (an integer, at most :data:`MAX_ADVANCE_BARS` steps; HTTP 400 naming
the field and value otherwise) and then played in chunks that yield to the event loop, so a big
step never stalls the WebSockets and REST answers the simulator serves meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from aiohttp import web

from alphadesk.domain.errors import InvalidField
from alphadesk.simulator import history_gen
from alphadesk.simulator.exchange import SimExchange
from alphadesk.simulator.faults import apply_spec
from alphadesk.simulator.market_payloads import s

#: The largest step one ``/sim/advance`` may ask for, in bars of the finest file interval.
MAX_ADVANCE_BARS = 100_000
#: Bars played between two yields to the event loop.
CHUNK_BARS = 100


def _integer(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(name, value, "must be an integer")
    return value


def advance_target(exchange: SimExchange, body: object) -> int:
    """The time an advance request asks for, checked: raises InvalidField naming the field."""
    if not isinstance(body, dict):
        raise InvalidField("body", body, 'must be {"bars": n} or {"to_ms": t}')
    now, step = exchange.now_ms, exchange.replay.step_ms
    if "to_ms" in body:
        to_ms = _integer(body, "to_ms")
        if to_ms < now:
            raise InvalidField("to_ms", to_ms, f"is before the simulator's now ({now})")
        if (to_ms - now) // step > MAX_ADVANCE_BARS:
            raise InvalidField("to_ms", to_ms, f"is more than {MAX_ADVANCE_BARS} bars ahead")
        return to_ms
    bars = _integer(body, "bars", 1)
    if not 0 <= bars <= MAX_ADVANCE_BARS:
        raise InvalidField("bars", bars, f"must be 0..{MAX_ADVANCE_BARS}")
    return now + bars * step


async def advance_in_chunks(exchange: SimExchange, to_ms: int) -> int:
    """Play up to ``to_ms``, :data:`CHUNK_BARS` at a time; returns the number of ticks."""
    ticks = 0
    chunk_ms = CHUNK_BARS * exchange.replay.step_ms
    while True:
        target = min(to_ms, exchange.now_ms + chunk_ms)
        ticks += len(exchange.advance_to(max(target, exchange.now_ms)))
        if target >= to_ms:
            return ticks
        await asyncio.sleep(0)


def generate_history(exchange: SimExchange, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /sim/history`` ``{"account": name, "bot": id, "days": 90, "seed": 0,
    "actions_per_day": 6, "end_ms": t}``: months of generated history for one account (see
    :mod:`alphadesk.simulator.history_gen`); ``end_ms`` defaults to the real clock's now."""
    name = body.get("account")
    if not isinstance(name, str) or exchange.account_by_name(name) is None:
        raise InvalidField("account", name, "is not an account of this simulator")
    bot = body.get("bot", name)
    if not isinstance(bot, str):
        raise InvalidField("bot", bot, "must be a string")
    rate = body.get("actions_per_day", 6)
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise InvalidField("actions_per_day", rate, "must be a number")
    made = history_gen.generate(
        exchange.engine, list(exchange.series.values()), name, bot=bot,
        end_ms=_integer(body, "end_ms", int(time.time() * 1000)),
        days=_integer(body, "days", 90), seed=_integer(body, "seed", 0),
        actions_per_day=float(rate),
    )
    return dataclasses.asdict(made)


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

    lock = asyncio.Lock()  # one advance at a time: chunks of two requests never interleave

    async def advance(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "body: is not JSON"}, status=400)
        async with lock:
            try:
                ticks = await advance_in_chunks(exchange, advance_target(exchange, body))
            except InvalidField as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({**state(exchange), "ticks": ticks})

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

    async def post_history(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "body: is not JSON"}, status=400)
        try:
            made = generate_history(exchange, body if isinstance(body, dict) else {})
        except InvalidField as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(made)

    app.router.add_get("/sim/state", get_state)
    app.router.add_post("/sim/history", post_history)
    app.router.add_post("/sim/advance", advance)
    app.router.add_get("/sim/faults", get_faults)
    app.router.add_post("/sim/faults", post_faults)
    app.router.add_delete("/sim/faults", clear_faults)
