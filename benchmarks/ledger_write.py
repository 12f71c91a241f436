"""Fills per second through the fill writer, via PgBouncer: one fill per call vs batched.

Creates its own database through the direct DSN (ALPHADESK_TEST_PG_DSN, default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it with Alembic, writes through PgBouncer
(ALPHADESK_TEST_PGBOUNCER_DSN, default postgresql://postgres@127.0.0.1:6432/postgres) and drops it.

Both paths go through ``FillWriter.write``, the production path: insert-if-absent in one
committed transaction (``synchronous_commit`` must be on, and is checked: each fill is durable when
the call returns), then the position projection update. "single" makes one call per fill;
"batched" one call per ``--batch`` fills. Fills are real-looking: the shape and values of the
recorded Bybit execution (ws_account_execution.json), with unique exec ids, three bots and three
symbols, prices and sizes varied, a new order id and orderLinkId every one to three fills.

    .venv/bin/python benchmarks/ledger_write.py [--single N] [--batched N] [--batch SIZE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.domain.fills import Fill
from alphadesk.engine.ledger import FillWriter

DIRECT = os.environ.get("ALPHADESK_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BOUNCER = os.environ.get(
    "ALPHADESK_TEST_PGBOUNCER_DSN", "postgresql://postgres@127.0.0.1:6432/postgres"
)


PAYLOADS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bybit_payloads"


def _with_db(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def make_fills(n: int, seed: int, start: timedelta = timedelta(0)) -> list[Fill]:
    """``n`` fills shaped like the recorded execution, each with a fresh exec id, in time order
    from ``start`` after the recording (as a live account reports them)."""
    payload = json.loads((PAYLOADS / "ws_account_execution.json").read_text())
    template = payload["data"][0]
    rng = random.Random(seed)
    t0 = datetime.fromtimestamp(int(template["execTime"]) / 1000, UTC) + start
    bots = ("lxalgo_001", "shortseller_001", "momentum_001")
    symbols = {"BTCUSDT": 95900.1, "ETHUSDT": 3000.5, "SOLUSDT": 187.23}
    fills = []
    order_id, link_id = "", ""
    for i in range(n):
        if i % 2 == 0 or rng.random() < 0.3:  # one order fills in one to three executions
            order_id = str(uuid.UUID(int=rng.getrandbits(128)))
            link_id = f"{bots[i % 3][:10]}-entry-{int(t0.timestamp() * 1000) + i * 7}"
        symbol = rng.choice(tuple(symbols))
        price = Decimal(f"{symbols[symbol] * rng.uniform(0.98, 1.02):.2f}")
        qty = Decimal(template["execQty"]) * rng.randint(1, 20) / 10
        fills.append(
            Fill(
                venue="bybit",
                account="386825804",
                exec_id=str(uuid.UUID(int=rng.getrandbits(128))),
                bot_id=bots[i % 3],
                symbol=symbol,
                side=rng.choice(("Buy", "Sell")),
                price=price,
                qty=qty,
                fee=(price * qty * Decimal(template["feeRate"])).quantize(Decimal("1e-8")),
                exec_time=t0 + timedelta(milliseconds=i * 7),
                exec_type=template["execType"],
                is_maker=bool(template["isMaker"]),
                order_id=order_id,
                order_link_id=link_id,
                order_type=template["orderType"],
            )
        )
    return fills


async def _rate(writer: FillWriter, fills: list[Fill], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(fills), batch):
        result = await writer.write(fills[i : i + batch])
        assert result.inserted_count == len(fills[i : i + batch])
    return len(fills) / (time.perf_counter() - start)


async def main(single_n: int, batched_n: int, batch: int) -> int:
    name = f"alphadesk_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(DIRECT)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        await asyncio.to_thread(migrate.upgrade, _with_db(BOUNCER, name))
        store = await PostgresLedger.connect(_with_db(BOUNCER, name))
        try:
            probe = await asyncpg.connect(_with_db(BOUNCER, name), statement_cache_size=0)
            sync_commit = await probe.fetchval("SHOW synchronous_commit")
            await probe.close()
            if sync_commit != "on":
                print(f"synchronous_commit is {sync_commit!r}, not 'on': refusing to measure")
                return 1
            writer = FillWriter(store)
            warm = make_fills(200, seed=1)
            await _rate(writer, warm, 50)
            single = await _rate(writer, make_fills(single_n, seed=2, start=timedelta(days=1)), 1)
            later = timedelta(days=2)
            batched = await _rate(writer, make_fills(batched_n, seed=3, start=later), batch)
        finally:
            await store.close()
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(
        f"# via PgBouncer {urlsplit(BOUNCER).netloc}, synchronous_commit={sync_commit}, "
        f"single: {single_n} calls of 1 fill, batched: {batched_n} fills in calls of {batch}"
    )
    print(f"single: {single:.0f} fills/s")
    print(f"batched: {batched:.0f} fills/s")
    print(f"ratio batched/single: {batched / single:.1f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--batched", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    a = parser.parse_args()
    sys.exit(asyncio.run(main(a.single, a.batched, a.batch)))
