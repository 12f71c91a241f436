"""Orders upserted with their status history, and wallet pushes as equity snapshots."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from listener_support import ACCOUNT, Ledger, decode_frame, order_frame, wallet_frame
from sim_support import eventually

from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage.order_records import merge, open_records
from alphadesk.domain.events import WalletReported
from alphadesk.engine.ingest import Ingest


def _order(status: str, updated_ms: int, filled: str = "0") -> list[object]:
    frame = order_frame()
    frame["data"][0].update(orderStatus=status, updatedTime=str(updated_ms), cumExecQty=filled)
    return list(decode_frame(frame))


async def test_orders_keep_their_status_history_and_ignore_stale_updates(
    ledger: Ledger, spool: DiskSpool
) -> None:
    records = await open_records(ledger.url, {})
    ingest = Ingest(ledger.writer, spool, orders=records)
    try:
        await ingest.ingest(_order("New", 1_700_000_001_000))
        await ingest.ingest(_order("PartiallyFilled", 1_700_000_002_000, "0.004"))
        await ingest.ingest(_order("PartiallyFilled", 1_700_000_002_000, "0.004"))  # replayed
        await ingest.ingest(_order("Filled", 1_700_000_003_000, "0.010"))
        await ingest.ingest(_order("New", 1_700_000_001_500))  # late, out of order
        rows = await ledger.fetch(
            "SELECT order_id, status, status_history FROM trading.orders")
        assert len(rows) == 1 and rows[0]["status"] == "Filled"
        history = json.loads(rows[0]["status_history"])
        assert [h["status"] for h in history] == ["New", "New", "PartiallyFilled", "Filled"]
        assert ingest.stats.orders == 5 and ingest.stats.order_failures == 0
    finally:
        await records.close()


async def test_wallet_pushes_become_equity_snapshots_once(
    ledger: Ledger, spool: DiskSpool
) -> None:
    records = await open_records(ledger.url, {ACCOUNT: "lxalgo_001"})
    ingest = Ingest(ledger.writer, spool, equity=records)
    try:
        reports = decode_frame(wallet_frame())
        assert any(isinstance(r, WalletReported) for r in reports)
        await ingest.ingest(reports)
        await ingest.ingest(reports)
        rows = await ledger.fetch("SELECT bot_id, account, equity FROM trading.equity")
        assert len(rows) == 1 and rows[0]["bot_id"] == "lxalgo_001"
        assert Decimal(str(rows[0]["equity"])) == Decimal("10262.91335023")
    finally:
        await records.close()


async def test_one_batch_with_many_updates_of_one_order_and_one_millisecond(
    ledger: Ledger, spool: DiskSpool
) -> None:
    """A burst arrives as one batch (one statement per table): every status of the order lands
    in its history, and of two wallet reports in one millisecond the later one stays."""
    records = await open_records(ledger.url, {ACCOUNT: "lxalgo_001"})
    ingest = Ingest(ledger.writer, spool, orders=records, equity=records)
    try:
        wallet = next(r for r in decode_frame(wallet_frame()) if isinstance(r, WalletReported))
        later = replace(wallet, equity=wallet.equity + 1)
        await ingest.ingest([
            *_order("New", 1_700_000_001_000),
            *_order("PartiallyFilled", 1_700_000_002_000, "0.004"),
            wallet,
            *_order("Filled", 1_700_000_003_000, "0.010"),
            later,
        ])
        rows = await ledger.fetch("SELECT status, status_history FROM trading.orders")
        assert len(rows) == 1 and rows[0]["status"] == "Filled"
        history = json.loads(rows[0]["status_history"])
        assert [h["status"] for h in history] == ["New", "PartiallyFilled", "Filled"]
        equity = await ledger.fetch("SELECT equity FROM trading.equity")
        assert [Decimal(str(r["equity"])) for r in equity] == [later.equity]
    finally:
        await records.close()


async def test_stored_orders_equal_merging_every_update_in_arrival_order(
    ledger: Ledger, spool: DiskSpool
) -> None:
    """Updates of three orders arrive shuffled, repeated and in batches of random size: each
    stored row equals folding every update, in arrival order, through ``merge`` (the rule both
    backends implement, PostgreSQL inside its upsert)."""
    rng = random.Random(20251125)
    statuses = ["New", "PartiallyFilled", "Filled", "Cancelled"]
    updates = []
    for n in range(36):
        frame = order_frame()
        frame["data"][0].update(orderId=f"order-{n % 3}", orderStatus=rng.choice(statuses),
                                updatedTime=str(1_700_000_000_000 + rng.randrange(8) * 500))
        updates.extend(decode_frame(frame))
    updates += rng.sample(updates, 6)  # replays
    rng.shuffle(updates)
    expected: dict[str, tuple[list[dict[str, str]], datetime, str]] = {}
    for update in updates:
        history, status, at = merge(expected.get(update.order.order_id), update)
        expected[update.order.order_id] = (history, at, status)
    records = await open_records(ledger.url, {})
    ingest = Ingest(ledger.writer, spool, orders=records)
    try:
        start = 0
        while start < len(updates):
            size = rng.randint(1, 9)
            await ingest.ingest(updates[start : start + size])
            start += size
        rows = await ledger.fetch(
            "SELECT order_id, status, status_history FROM trading.orders ORDER BY order_id")
    finally:
        await records.close()
    assert {r["order_id"]: (json.loads(r["status_history"]), r["status"]) for r in rows} == {
        order_id: (history, status) for order_id, (history, _, status) in expected.items()
    }


class SlowFirstEquity:
    """The real recorder, whose first equity write is held until ``go`` is set."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.go = asyncio.Event()
        self.calls = 0

    async def record_equity(self, reports: Sequence[WalletReported]) -> None:
        self.calls += 1
        if self.calls == 1:
            await self.go.wait()
        await self.inner.record_equity(reports)  # type: ignore[attr-defined]


async def test_batches_in_flight_record_equity_in_their_order(
    ledger: Ledger, spool: DiskSpool
) -> None:
    """The listener keeps two batches in flight: of two wallet reports of one millisecond in
    consecutive batches, the later one stays even when the first batch's write is slow."""
    records = await open_records(ledger.url, {ACCOUNT: "lxalgo_001"})
    slow = SlowFirstEquity(records)
    ingest = Ingest(ledger.writer, spool, equity=slow)  # type: ignore[arg-type]
    try:
        wallet = next(r for r in decode_frame(wallet_frame()) if isinstance(r, WalletReported))
        later = replace(wallet, equity=wallet.equity + 1)
        first = asyncio.create_task(ingest.ingest([wallet]))
        second = asyncio.create_task(ingest.ingest([later]))
        # the second batch is past its commit, its equity write queued behind the first's
        await eventually(lambda: ingest.stats.batches == 2 and slow.calls == 1)
        slow.go.set()
        await asyncio.gather(first, second)
        rows = await ledger.fetch("SELECT equity FROM trading.equity")
        assert [Decimal(str(r["equity"])) for r in rows] == [later.equity]
    finally:
        await records.close()
