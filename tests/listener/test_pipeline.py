"""A batch's commit and what follows it (projection, bus, live positions) are two stages: the next
batch commits while the previous one is still being announced, and nothing is lost or reordered
when a batch is cancelled between the two. Real storage (SQLite, PostgreSQL via PgBouncer), real
Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from listener_support import BOT, Ledger, State, decode_frame, fills, position_frame

from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import fold
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import PositionSave


class GatedBus:
    """The real Redis bus, whose fill announcements wait while ``gate`` is closed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def publish_fills(self, fills: Sequence[Fill], **kw: Any) -> list[str]:
        self.waiting.set()
        await self.gate.wait()
        result: list[str] = await self.inner.publish_fills(fills, **kw)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class GatedSaves:
    """The real ledger store, whose projection saves wait while ``gate`` is closed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        self.waiting.set()
        await self.gate.wait()
        written: set[tuple[str, str]] = await self.inner.save_positions(saves)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_the_next_batch_commits_while_the_previous_one_is_announced(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    bus = GatedBus(state.bus)
    ingest = Ingest(ledger.writer, spool, bus=bus, positions=state.positions)  # type: ignore[arg-type]
    batch = fills(6)
    first_committed, second_committed = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(ingest.ingest(batch[:3], committed=first_committed.set))
    await asyncio.wait_for(bus.waiting.wait(), 10)  # first: committed, its announcement held
    assert first_committed.is_set()

    second = asyncio.create_task(ingest.ingest(batch[3:], committed=second_committed.set))
    await asyncio.wait_for(second_committed.wait(), 10)
    assert await ledger.exec_ids() == [f.exec_id for f in batch]  # both durable already
    assert not first.done() and not second.done()
    assert await state.stream_ids() == []  # nothing announced yet

    bus.gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert await state.stream_ids() == [f.exec_id for f in batch]  # once each, commit order
    live = await state.positions.get_position(BOT, "BTCUSDT")
    assert live is not None
    assert live.size == fold(BOT, "BTCUSDT", batch).qty


async def test_a_batch_cancelled_after_its_commit_loses_nothing(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    store = GatedSaves(ledger.store)
    ledger.writer._store = store  # the projection's saves of the first batch are held
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions)
    batch = fills(6, qty="0.02")
    store.gate.set()
    await ingest.ingest(batch[:2])  # rows exist, the stream has its mark
    store.gate.clear()
    store.waiting.clear()

    first_committed = asyncio.Event()
    first = asyncio.create_task(ingest.ingest(batch[2:4], committed=first_committed.set))
    await asyncio.wait_for(store.waiting.wait(), 10)  # committed, its projection half done
    assert first_committed.is_set()
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert first.cancelled()

    store.gate.set()
    await ingest.ingest(batch[4:])
    assert await ledger.exec_ids() == [f.exec_id for f in batch]
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in batch)
    expected = fold(BOT, "BTCUSDT", batch)
    (stored,) = (await ledger.writer.positions([(BOT, "BTCUSDT")])).values()
    assert stored == expected
    live = await state.positions.get_position(BOT, "BTCUSDT")
    assert live is not None
    assert live.size == expected.qty


async def test_projections_follow_commit_order_and_an_owed_one_is_rebuilt(ledger: Ledger) -> None:
    writer = ledger.writer
    batch = fills(9, qty="0.03")
    a = await writer.commit(batch[:3])
    b = await writer.commit(batch[3:6])
    await writer.project(a)
    writer.owe(b)  # b's fills are in the ledger but will never be folded in by hand
    await writer.write(batch[6:])
    (stored,) = (await writer.positions([(BOT, "BTCUSDT")])).values()
    expected = fold(BOT, "BTCUSDT", batch)
    assert stored == expected
    records = await writer.records([(BOT, "BTCUSDT")])
    assert records[(BOT, "BTCUSDT")].fill_count == 9


async def test_a_rebuild_leaves_out_commits_still_to_be_projected(ledger: Ledger) -> None:
    """A new writer's first projection of a row refolds it from the ledger, which already holds
    the next commit's fills: they are folded once, by their own projection."""
    batch = fills(9, qty="0.01")
    await ledger.writer.write(batch[:3])  # history, written by an earlier process
    writer = FillWriter(ledger.store)
    first = await writer.commit(batch[3:6])
    second = await writer.commit(batch[6:])
    await writer.project(first)  # rebuilds from the ledger: must not count the second commit
    await writer.project(second)
    (stored,) = (await writer.positions([(BOT, "BTCUSDT")])).values()
    assert stored == fold(BOT, "BTCUSDT", batch)
    assert (await writer.records([(BOT, "BTCUSDT")]))[(BOT, "BTCUSDT")].fill_count == 9


class CountingLoads:
    """The real ledger store, counting projection-row reads."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.loads = 0

    async def load_positions(self, keys: Sequence[tuple[str, str]]) -> Any:
        self.loads += 1
        return await self.inner.load_positions(keys)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_row_found_absent_is_not_read_again_until_written(ledger: Ledger) -> None:
    """Venue position snapshots ask for the account's unknown bot on every batch; its row does
    not exist until this process (the single writer of fills) writes one."""
    store = CountingLoads(ledger.store)
    writer = FillWriter(store)  # type: ignore[arg-type]
    key = (BOT, "BTCUSDT")
    assert await writer.records([key]) == {}
    assert await writer.records([key]) == {}
    assert store.loads == 1
    batch = fills(2)
    await writer.write(batch)
    records = await writer.records([key])
    assert records[key].position == fold(BOT, "BTCUSDT", batch)


async def test_a_snapshot_is_checked_against_the_ledger_as_it_stood(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """With two batches in flight, the first batch's venue snapshot is not compared with a
    ledger that already holds the second batch's fill (no grace period: it would be an alert)."""
    store = GatedSaves(ledger.store)
    ledger.writer._store = store
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions)
    one, two = fills(2, qty="0.01")
    snapshot = decode_frame(position_frame("BTCUSDT", "Buy", "0.01"))
    second_committed = asyncio.Event()
    first = asyncio.create_task(ingest.ingest([one, *snapshot]))
    await asyncio.wait_for(store.waiting.wait(), 10)  # first: committed, projection held
    second = asyncio.create_task(ingest.ingest([two], committed=second_committed.set))
    await asyncio.wait_for(second_committed.wait(), 10)  # second: committed meanwhile
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert ingest.stats.mismatches == 0 and ingest.take_reconcile() == set()
    (stored,) = (await ledger.writer.positions([(BOT, "BTCUSDT")])).values()
    assert stored.qty == Decimal("0.02")
