"""Web dashboard cost: what one live snapshot and one PnL summary cost the desk, and what the
HTTP layer adds on top of the facade.

A SQLite ledger with BENCH_BOTS bots (default 3) of BENCH_FILLS fills each (default 5,000,
alternating buys and sells, so about half as many round trips), registered in trading.bots and
with round trips kept. Measured in the same process, CPU time (process_time) per call:

- ``facade snapshot``: ``web.live.snapshot`` (status, positions, balances, health), the hub's
  read every ALPHADESK_WEB_POLL_S while a browser watches;
- ``facade pnl summary``: ``web.live.pnl_summary`` (analytics + a daily table per bot), after
  fills and every 30 s;
- ``GET /api/v1/overview``: the same snapshot over HTTP (uvicorn on loopback, aiohttp client,
  bearer token), client and server in this process.

Printed one per line as ``NAME: X ms CPU/call``, then ``ratio http/facade: X`` (the web's
overhead on a snapshot). Run: ``.venv/bin/python benchmarks/web.py``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.control import open_control
from alphadesk.app.settings import Settings
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.testing.builders import make_fill
from alphadesk.web import config as web_config
from alphadesk.web.live import pnl_summary, snapshot
from alphadesk.web.server import create_app

BOTS = int(os.environ.get("BENCH_BOTS", "3"))
FILLS = int(os.environ.get("BENCH_FILLS", "5000"))
CALLS = int(os.environ.get("BENCH_CALLS", "50"))
TOKEN = "bench-token-0123456789abcdef"


async def seed(url: str) -> None:
    bots = await open_bots(url)
    store = await open_store(url)
    trips = await open_round_trips(url)
    try:
        for b in range(BOTS):
            bot_id = f"bench_{b:03d}"
            await bots.register(BotRecord(bot_id, bot_id, "ema_cross", "ema_cross", "active",
                                          "paper", Decimal(10_000), Decimal(10_000),
                                          datetime.now(UTC)))  # fmt: skip
            fills = [make_fill("Buy" if i % 2 == 0 else "Sell", "1", str(100 + i % 7), "0.01",
                               seconds=i * 60, exec_id=f"{bot_id}-{i}", bot_id=bot_id,
                               account=bot_id) for i in range(FILLS)]  # fmt: skip
            for start in range(0, FILLS, 1000):
                await FillWriter(store).write(fills[start:start + 1000])
        await RoundTripKeeper(store, trips).rebuild()
    finally:
        await trips.close()
        await store.close()
        await bots.close()


async def cpu_per_call(fn: Callable[[], Awaitable[Any]]) -> float:
    await fn()  # warm
    started = time.process_time()
    for _ in range(CALLS):
        await fn()
    return (time.process_time() - started) / CALLS * 1000


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        t0 = time.perf_counter()
        await seed(url)
        print(f"seeded {BOTS} bots x {FILLS} fills in {time.perf_counter() - t0:.1f} s", flush=True)
        state = MemoryState()
        config = web_config.load({"ALPHADESK_WEB_ADMIN_TOKEN": TOKEN}, host="127.0.0.1", port=0)
        async with open_control(Settings(database_url=url), state=state,
                                health_file=None) as control:  # fmt: skip
            direct = await cpu_per_call(lambda: snapshot(control))
            pnl = await cpu_per_call(lambda: pnl_summary(control))
            app = create_app(control, state.bus, config)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                   log_level="warning", lifespan="on"))  # fmt: skip
            server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn's flag
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with aiohttp.ClientSession(headers=headers) as http:

                async def get() -> None:
                    async with http.get(f"http://127.0.0.1:{port}/api/v1/overview") as res:
                        assert res.status == 200
                        await res.read()

                over_http = await cpu_per_call(get)
            server.should_exit = True
            await task
    print(f"facade snapshot: {direct:.2f} ms CPU/call")
    print(f"facade pnl summary: {pnl:.2f} ms CPU/call")
    print(f"GET /api/v1/overview: {over_http:.2f} ms CPU/call")
    print(f"ratio http/facade: {over_http / direct:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
