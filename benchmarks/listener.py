"""The listener's figures: ingest throughput, and push-to-announced latency over real sockets.

1. ``ingest``: fills per second through :class:`Ingest` (ledger commit via PgBouncer, projection,
   ``events:fills`` + ``fills_channel``, ``position:*`` keys on Redis), one fill per call (a live
   frame usually holds one) and batched (a gap-fill page).
2. ``e2e``: the listener against the local simulator: an execution is pushed on the private
   WebSocket, decoded, committed, projected and announced on ``fills_channel``; the figure is
   the time from the simulator's push to the announcement, per fill (p50/p90/p99).

Creates and drops its own database (ALPHADESK_TEST_PG_DSN / ALPHADESK_TEST_PGBOUNCER_DSN, as the
tests), uses its own Redis key namespace (ALPHADESK_TEST_REDIS_URL, default redis://127.0.0.1:6379)
and deletes it afterwards.

    .venv/bin/python benchmarks/listener.py [--fills N] [--batch SIZE] [--e2e N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "listener"))

from listener_support import fills as make_fills
from sim_support import BTC_5M, FAST_WS, sim_account, spec, venue_clock

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.app.listener import Listener
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.simulator import run_simulator
from harness import data

DIRECT = os.environ.get("ALPHADESK_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BOUNCER = os.environ.get(
    "ALPHADESK_TEST_PGBOUNCER_DSN", "postgresql://postgres@127.0.0.1:6432/postgres"
)
REDIS = os.environ.get("ALPHADESK_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _with_db(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def bench_ingest(store: PostgresLedger, state: RedisState, n: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ingest = Ingest(FillWriter(store), DiskSpool(Path(tmp)), bus=state.bus,
                        positions=state.positions)
        await ingest.recover()
        for label, size in (("one fill per call", 1), (f"batches of {batch}", batch)):
            rows = make_fills(n, start_ms=1_746_270_400_353 + size * 10_000_000)
            started = time.perf_counter()
            for i in range(0, n, size):
                await ingest.ingest(rows[i : i + size])
            took = time.perf_counter() - started
            print(f"ingest, {label:>18}: {n / took:8.0f} fills/s ({n} fills, {took:.2f} s)")
        ingest.spool.close()


async def bench_e2e(store: PostgresLedger, state: RedisState, n: int) -> None:
    pushed: dict[str, float] = {}
    latencies: list[float] = []
    account = sim_account(1)
    with tempfile.TemporaryDirectory() as tmp:
        async with run_simulator([data.market_csv(BTC_5M)], [account], history_bars=50) as sim:
            ingest = Ingest(FillWriter(store), DiskSpool(Path(tmp)), bus=state.bus,
                            positions=state.positions)
            listener = Listener(ingest, [spec(sim, account, "bench_001")],
                                venue_clock=venue_clock(sim), ws_settings=FAST_WS)
            await listener.start()
            async with state.bus.subscribe_fills() as sub:
                await asyncio.sleep(0.2)  # let the SUBSCRIBE land before the first push
                for _ in range(n):
                    request = OrderRequest(
                        bot_id="bench_001", symbol="BTCUSDT", side=Side.BUY,
                        qty=Decimal("0.001"), order_type=OrderType.MARKET,
                        order_link_id=order_link.encode("bench_001", order_link.Purpose.ENTRY))
                    outcome = sim.exchange.engine.place(account.name, request, sim.now_ms)
                    now = time.perf_counter()
                    for event in outcome.events:
                        if isinstance(event, Fill):
                            pushed[event.exec_id] = now
                    sim.exchange.publish_events(outcome.events)
                    fill = await sub.get(5.0)
                    if fill is not None and fill.exec_id in pushed:
                        latencies.append(time.perf_counter() - pushed[fill.exec_id])
            await listener.close()
            ingest.spool.close()
    latencies.sort()
    ms = [x * 1000 for x in latencies]

    def q(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))]

    print(f"e2e push -> committed -> announced: p50 {q(0.5):.1f} ms, p90 {q(0.9):.1f} ms, "
          f"p99 {q(0.99):.1f} ms, mean {statistics.fmean(ms):.1f} ms ({len(ms)} of {n} fills)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fills", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--e2e", type=int, default=300)
    args = parser.parse_args()
    name = f"alphadesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(DIRECT)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    namespace = f"bench:{secrets.token_hex(4)}:"
    state = RedisState(Redis.from_url(REDIS), namespace=namespace)
    try:
        await asyncio.to_thread(migrate.upgrade, _with_db(BOUNCER, name))
        store = await PostgresLedger.connect(_with_db(BOUNCER, name))
        try:
            await bench_ingest(store, state, args.fills, args.batch)
            await bench_e2e(store, state, args.e2e)
        finally:
            await store.close()
    finally:
        keys = [k async for k in state.client.scan_iter(match=f"{namespace}*")]
        if keys:
            await state.client.delete(*keys)
        await state.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
