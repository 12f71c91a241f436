"""Position updates and fill events per second through the real Redis (and the spool on disk).

Runs under its own key namespace on ALPHADESK_TEST_REDIS_URL (default redis://127.0.0.1:6379/0)
and deletes it afterwards. Figures, each printed as ``NAME: N ops/s``:

- position_put_single: one ``put_position`` per call (one Lua EVALSHA round trip each);
- position_put_batched: ``put_positions`` of ``--batch`` states (one pipelined round trip);
- fill_events_single: ``publish_fills`` of one fill, then read + ack by a consumer group, per fill;
- fill_events_batched: publish ``--batch`` fills, one XREADGROUP of ``--batch``, one XACK;
- spool_append_fsync: ``DiskSpool.append`` of ``--batch`` fills (fsync each) in a temp dir,
  counted in fills.

Fills are those of the recorded Bybit execution (ws_account_execution.json) shape, built with
``make_fill``; positions cycle over three bots and ten symbols with a growing ``seq``.

    .venv/bin/python benchmarks/redis_state.py [--n N] [--batch SIZE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from redis.asyncio import Redis

from alphadesk.adapters.redis import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import PositionState
from alphadesk.testing.builders import make_fill

URL = os.environ.get("ALPHADESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BOTS = ("shortseller_001", "lxalgo_001", "momentum_001")
SYMBOLS = tuple(
    f"{c}USDT" for c in ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "LINK", "DOT")
)
T0 = datetime(2025, 5, 3, 11, 6, 40, 353000, tzinfo=UTC)


def states(n: int) -> list[PositionState]:
    return [
        PositionState(
            bot_id=BOTS[i % 3],
            symbol=SYMBOLS[i % 10],
            size=Decimal("0.5"),
            side=Side.SELL,
            avg_price=Decimal("95900.1") + i % 97,
            unrealized_pnl=Decimal("-12.34"),
            updated_at=T0 + timedelta(milliseconds=i),
            seq=i + 1,
        )
        for i in range(n)
    ]


def fills(n: int) -> list[Fill]:
    return [
        make_fill(
            "Sell",
            "0.5",
            f"{95900 + i % 113}.1",
            "26.3725275",
            seconds=i / 1000,
            exec_id=f"bench-{secrets.token_hex(8)}",
            symbol=SYMBOLS[i % 10],
        )
        for i in range(n)
    ]


def report(name: str, count: int, seconds: float) -> None:
    print(f"{name}: {count / seconds:,.0f} ops/s")


async def bench(n: int, batch: int) -> None:
    namespace = f"bench:{secrets.token_hex(6)}:"
    state = RedisState.from_url(URL, namespace=namespace)
    try:
        single = states(n)
        start = time.perf_counter()
        for s in single:
            await state.positions.put_position(s)
        report("position_put_single", n, time.perf_counter() - start)

        many = [
            PositionState(
                s.bot_id,
                s.symbol,
                s.size,
                s.side,
                s.avg_price,
                s.unrealized_pnl,
                s.updated_at,
                s.seq + n,
            )
            for s in states(n)
        ]
        start = time.perf_counter()
        for i in range(0, n, batch):
            written = await state.positions.put_positions(many[i : i + batch])
            assert all(written)
        report("position_put_batched", n, time.perf_counter() - start)

        one_by_one = fills(n)
        start = time.perf_counter()
        for fill in one_by_one:
            await state.bus.publish_fills([fill])
            got = await state.bus.fills.read("bench-single", "c", count=1)
            await state.bus.fills.ack("bench-single", [d.id for d in got])
        report("fill_events_single", n, time.perf_counter() - start)

        batched = fills(n)
        start = time.perf_counter()
        consumed = 0
        for i in range(0, n, batch):
            await state.bus.publish_fills(batched[i : i + batch])
            got = await state.bus.fills.read("bench-batched", "c", count=batch)
            consumed += len(got)
            await state.bus.fills.ack("bench-batched", [d.id for d in got])
        assert consumed == n
        report("fill_events_batched", n, time.perf_counter() - start)
    finally:
        await state.aclose()
        client = Redis.from_url(URL)
        keys = [k async for k in client.scan_iter(match=f"{namespace}*")]
        if keys:
            await client.unlink(*keys)
        await client.aclose()

    with tempfile.TemporaryDirectory() as tmp, DiskSpool(tmp) as spool:
        spooled = fills(n)
        start = time.perf_counter()
        for i in range(0, n, batch):
            spool.append(spooled[i : i + batch])
        report("spool_append_fsync", n, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(bench(args.n, args.batch))


if __name__ == "__main__":
    main()
