"""Two fill writers (two processes' worth: separate pools through PgBouncer) racing with
overlapping batches store each fill exactly once, between them report each fill as inserted
exactly once, and leave the position projection equal to a fold of the ledger."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from ledger_support import MakeFill

from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import fold
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import WriteResult
from harness import postgres as pgh

pytestmark = pytest.mark.postgres

T0 = datetime(2025, 11, 6, 4, 19, 30, tzinfo=UTC)


@pytest_asyncio.fixture
async def two_writers(
    pg_ledger_db: pgh.PgDatabase,
) -> AsyncIterator[tuple[FillWriter, FillWriter]]:
    a = await PostgresLedger.connect(pg_ledger_db.bouncer_dsn, max_size=3)
    b = await PostgresLedger.connect(pg_ledger_db.bouncer_dsn, max_size=3)
    try:
        yield FillWriter(a), FillWriter(b)
    finally:
        await a.close()
        await b.close()


def _fills(make_fill: MakeFill, n: int) -> list[Fill]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        bot = ("lxalgo_001", "shortseller_001")[i % 2]
        symbol = ("BTCUSDT", "ETHUSDT", "SOLUSDT")[i % 3]
        out.append(
            make_fill(
                bot_id=bot,
                symbol=symbol,
                at=T0 + timedelta(milliseconds=rng.randrange(0, 600_000)),
                side=rng.choice(("Buy", "Sell")),
                execPrice=f"{rng.randrange(90_000, 99_000)}.{rng.randrange(10)}",
                execQty=f"0.{rng.randrange(1, 999):03d}",
                execFee=f"0.{rng.randrange(1, 99_999_999):08d}",
            )
        )
    return out


async def _write_in_chunks(writer: FillWriter, fills: list[Fill], size: int) -> list[WriteResult]:
    results = []
    for start in range(0, len(fills), size):
        results.append(await writer.write(fills[start : start + size + size // 2]))  # overlap
        await asyncio.sleep(0)
    return results


async def test_racing_writers_store_each_fill_once(
    two_writers: tuple[FillWriter, FillWriter], make_fill: MakeFill
) -> None:
    a, b = two_writers
    fills = _fills(make_fill, 600)
    # A writes from the first fill on, B from the last one back: they overlap within their own
    # batches and collide with each other in the middle.
    results_a, results_b = await asyncio.gather(
        _write_in_chunks(a, fills, 40),
        _write_in_chunks(b, fills[::-1], 25),
    )
    inserted = Counter(k for r in results_a + results_b for k in r.inserted)
    assert set(inserted) == {f.key for f in fills}
    assert max(inserted.values()) == 1  # no fill reported new twice
    submitted = sum(r.inserted_count + r.duplicate_count for r in results_a + results_b)
    duplicates = sum(r.duplicate_count for r in results_a + results_b)
    assert submitted > 2 * 600  # each writer sent every fill, some twice (overlapping batches)
    assert duplicates == submitted - 600  # everything not stored once was reported duplicate
    stored = await a.read_fills()
    assert len(stored) == 600
    assert sorted(stored, key=lambda f: f.exec_id) == sorted(fills, key=lambda f: f.exec_id)

    keys = sorted({(f.bot_id, f.symbol) for f in fills})
    projected = await a.positions(keys)
    for bot_id, symbol in keys:
        mine = [f for f in fills if (f.bot_id, f.symbol) == (bot_id, symbol)]
        assert projected[(bot_id, symbol)] == fold(bot_id, symbol, mine)
