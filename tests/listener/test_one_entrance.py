"""The one entrance for fills (``FillRecorder``), on the real ledgers and the real Redis.

Whoever commits a fill, it is announced on ``events:fills`` exactly once and the live position in
Redis ends equal to the ledger's; a row the ledger refuses costs only itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from listener_support import ACCOUNT, BOT, Ledger, State

from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain.alerts import Alert
from alphadesk.domain.dead_letters import DeadLetter
from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerRejected, LedgerStore, WriteResult
from alphadesk.engine.recorder import FillRecorder
from alphadesk.testing.builders import make_fill


def trade(n: int, *, qty: str = "0.01", price: str = "100000") -> list[Fill]:
    return [
        make_fill("Buy", qty, price, "0.05", seconds=i, bot_id=BOT, account=ACCOUNT)
        for i in range(n)
    ]


class Letters:
    """The dead-letter port, in a list (the file adapter has tests of its own)."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def put(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)

    def read(self) -> list[DeadLetter]:
        return list(self.letters)

    def count(self) -> int:
        return len(self.letters)


class Alerts:
    def __init__(self) -> None:
        self.seen: list[Alert] = []

    async def alert(self, alert: Alert) -> None:
        self.seen.append(alert)


async def redis_equals_ledger(ledger: Ledger, state: State, symbol: str = "BTCUSDT") -> None:
    stored = await ledger.writer.store.load_positions([(BOT, symbol)])
    record = stored[(BOT, symbol)]
    live = await state.positions.get_position(BOT, symbol)
    assert live is not None
    assert (live.size, live.seq) == (record.position.qty, record.fill_count)
    assert live.avg_price == record.position.avg_entry_price


async def test_a_fill_another_path_wrote_first_is_announced_once(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """The scenario of the bug: the listener records fill 1; another writer (a bot writing for
    itself, as before the one entrance) stores fill 2 and announces nothing; the listener then
    receives fill 2 as a duplicate. The stream ends with both fills once, Redis equal to the
    ledger."""
    one, two = trade(2)
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions)
    await ingest.ingest([one])
    other = FillWriter(ledger.store)  # stands in for the bot's own writer
    await other.write([two])

    result = await ingest.ingest([two])

    assert result.duplicates == (two.key,) and not result.inserted
    assert await state.stream_ids() == [one.exec_id, two.exec_id]
    live = await state.positions.get_position(BOT, "BTCUSDT")
    assert live is not None and live.seq == 2 and live.size == Decimal("0.02")
    await redis_equals_ledger(ledger, state)
    # and an ordinary duplicate later (a gap-fill page again) announces nothing more
    await ingest.ingest([one, two])
    assert await state.stream_ids() == [one.exec_id, two.exec_id]


async def test_two_recorders_on_one_ledger_announce_each_fill_once(
    ledger: Ledger, state: State, tmp_path: Path
) -> None:
    """Two processes' recorders (say the listener and a backfill) take overlapping batches of
    the same fills at the same time: each fill is stored once and announced once, whoever
    inserted it, and Redis ends equal to the ledger."""
    batch = trade(40)
    spools = [DiskSpool(tmp_path / f"spool{k}") for k in range(2)]
    try:
        recorders = [
            FillRecorder(FillWriter(ledger.store), spools[k], bus=state.bus,
                         positions=state.positions)
            for k in range(2)
        ]  # fmt: skip
        pages = [batch[i : i + 10] for i in range(0, 40, 5)]  # every fill in two pages

        async def feed(recorder: FillRecorder, mine: list[list[Fill]]) -> None:
            for page in mine:
                await recorder.record(page)

        await asyncio.gather(feed(recorders[0], pages[::2]), feed(recorders[1], pages[1::2]))
        # a later duplicate makes each recorder look again at what the other stored
        for recorder in recorders:
            await recorder.record(batch[-1:])
    finally:
        for spool in spools:
            spool.close()

    ids = await state.stream_ids()
    assert sorted(ids) == sorted(f.exec_id for f in batch)
    assert len(ids) == len(set(ids)) == 40
    assert sorted(await ledger.exec_ids()) == sorted(f.exec_id for f in batch)
    await redis_equals_ledger(ledger, state)


def poisoned(fill: Fill) -> Fill:
    """A fill carrying a NUL the domain would refuse today: it stands for any value the ledger
    refuses that got past the checks (defence in depth)."""
    object.__setattr__(fill, "exec_id", fill.exec_id + "\x00")
    return fill


@pytest.mark.postgres
@pytest.mark.parametrize("ledger", ["postgres"], indirect=True)  # SQLite stores a NUL
async def test_a_row_the_ledger_refuses_costs_only_itself(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    assert ledger.backend == "postgres"
    batch = trade(8)
    bad = poisoned(batch[5])
    letters, alerts = Letters(), Alerts()
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions,
                    dead_letters=letters, alerts=alerts)  # fmt: skip

    result = await ingest.ingest(batch)

    good = [f for f in batch if f is not bad]
    assert result.rejected == 1 and result.spooled == 0
    assert sorted(result.inserted) == sorted(f.key for f in good)
    assert sorted(await ledger.exec_ids()) == sorted(f.exec_id for f in good)
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in good)
    assert spool.depth().records == 0 and ingest.database_up
    [letter] = letters.letters
    assert letter.source == "ledger" and "\\u0000" in letter.raw and letter.reason
    assert [a.kind for a in alerts.seen] == ["dead_letter"]
    later = trade(2)
    after = await ingest.ingest(later)  # nothing queues behind the bad row
    assert len(after.inserted) == 2 and spool.depth().records == 0


class SwitchableStore:
    """A real ledger store whose fill inserts fail while ``down`` (a database outage), and which
    refuses any batch holding an exec id in ``refused``, as PostgreSQL refuses a value its types
    do not take (the test above shows the real refusal)."""

    def __init__(self, inner: LedgerStore) -> None:
        self.inner = inner
        self.down = False
        self.refused: set[str] = set()
        self.down_after: int | None = None  # inserts that succeed before it goes down

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult:
        if self.down_after is not None:
            self.down = self.down or self.down_after <= 0
            self.down_after -= 1
        if self.down:
            raise ConnectionRefusedError("database is down")
        bad = [f.exec_id for f in fills if f.exec_id in self.refused]
        if bad:
            raise LedgerRejected(f"value refused in {bad[0]}")
        return await self.inner.insert_fills(fills)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_a_refused_row_in_the_spool_does_not_hold_it_back(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """Spooled while the database was down, a batch with a refused row replays when it is back:
    the good rows are recorded, the refused one is a dead letter, the spool empties."""
    store = SwitchableStore(ledger.store)
    letters = Letters()
    recorder = FillRecorder(
        FillWriter(store), spool, bus=state.bus, dead_letters=letters, db_retry_s=0.0  # type: ignore[arg-type]
    )
    batch = trade(5)
    store.down = True
    assert (await recorder.record(batch[:3])).spooled == 3
    store.down, store.refused = False, {batch[1].exec_id}
    result = await recorder.record(batch[3:])

    assert len(result.inserted) == 2 and spool.depth().records == 0
    kept = [batch[0], batch[2], batch[3], batch[4]]
    assert sorted(await ledger.exec_ids()) == sorted(f.exec_id for f in kept)
    [letter] = letters.letters
    assert batch[1].exec_id in letter.raw and "value refused" in letter.reason
    assert recorder.database_up
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in kept)


async def test_the_database_going_away_while_a_batch_is_split_loses_nothing(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """The ledger refuses a row, and while the batch is being split it becomes unreachable: the
    half that did commit is projected and announced, the rest waits in the spool (the refused row
    is set aside once), and everything is in the ledger once it is back."""
    store = SwitchableStore(ledger.store)
    letters = Letters()
    recorder = FillRecorder(
        FillWriter(store), spool, bus=state.bus, positions=state.positions,  # type: ignore[arg-type]
        dead_letters=letters, db_retry_s=0.0,
    )
    batch = trade(8)
    store.refused = {batch[6].exec_id}
    store.down_after = 2  # the whole batch (refused), its first half (committed), then down

    first = await recorder.record(batch)

    assert sorted(first.inserted) == sorted(f.key for f in batch[:4])
    assert first.spooled == 4 and spool.depth().records == 4 and not recorder.database_up
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in batch[:4])
    store.down, store.down_after = False, None
    await recorder.recover()

    kept = [f for f in batch if f is not batch[6]]
    assert sorted(await ledger.exec_ids()) == sorted(f.exec_id for f in kept)
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in kept)
    assert [batch[6].exec_id in letter.raw for letter in letters.letters] == [True]
    assert spool.depth().records == 0 and recorder.database_up
    live = await state.positions.get_position(BOT, "BTCUSDT")
    assert live is not None and live.size == Decimal("0.07") and live.seq == 7
