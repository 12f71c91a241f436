"""The ingest path on real storage (SQLite, PostgreSQL via PgBouncer), Redis and spool."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from listener_support import (
    ACCOUNT,
    BOT,
    T0,
    Ledger,
    ManualClock,
    State,
    adl_fill,
    decode_frame,
    execution_frame,
    execution_row,
    fills,
    position_frame,
    sqlite_ledger,
)

from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain.events import PositionReported
from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import Alert, Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore, WriteResult
from alphadesk.engine.state_ports import SpoolFull


class Alerts:
    def __init__(self) -> None:
        self.seen: list[Alert] = []

    async def alert(self, alert: Alert) -> None:
        self.seen.append(alert)


class SwitchableStore:
    """A real ledger store whose fill inserts fail while ``down`` (a database outage)."""

    def __init__(self, inner: LedgerStore) -> None:
        self.inner = inner
        self.down = False
        self.attempts = 0

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult:
        self.attempts += 1
        if self.down:
            raise ConnectionRefusedError("database is down")
        return await self.inner.insert_fills(fills)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_duplicates_and_overlaps_are_stored_and_published_once(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions)
    batch = fills(6)
    first = await ingest.ingest(batch[:4])
    again = await ingest.ingest(batch[2:] + batch[:1])  # overlap, plus a repeat of the first
    inner = await ingest.ingest([batch[5], batch[5]])  # a repeat inside one batch

    assert len(first.inserted) == 4 and len(again.inserted) == 2 and not inner.inserted
    assert len(again.duplicates) == 3 and len(inner.duplicates) == 2
    expected = [f.exec_id for f in batch]
    assert await ledger.exec_ids() == expected
    assert await state.stream_ids() == expected
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("0.06") and position.seq == 6
    assert ingest.stats.inserted == 6 and ingest.stats.duplicates == 5


async def test_nothing_published_before_commit_spool_replays_in_order(
    tmp_path: Path, state: State, spool: DiskSpool
) -> None:
    real = await sqlite_ledger(tmp_path / "l.db")
    store = SwitchableStore(real.store)
    from alphadesk.engine.ledger import FillWriter

    ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,  # type: ignore[arg-type]
                    db_retry_s=0.0)
    batch = fills(9)
    await ingest.ingest(batch[:3])
    store.down = True
    spooled = await ingest.ingest(batch[3:6])
    later = await ingest.ingest(batch[6:8])
    assert spooled.spooled == 3 and later.spooled == 2 and not ingest.database_up
    assert spool.depth().records == 5
    assert await state.stream_ids() == [f.exec_id for f in batch[:3]]  # nothing uncommitted
    assert await real.exec_ids() == [f.exec_id for f in batch[:3]]

    store.down = False
    await ingest.ingest(batch[8:])  # the spool drains first: arrival order is kept
    assert spool.depth().records == 0 and ingest.database_up
    assert await real.exec_ids() == [f.exec_id for f in batch]
    assert await state.stream_ids() == [f.exec_id for f in batch]
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("0.09")
    await real.store.close()


async def test_spool_full_refuses_without_losing_what_it_holds(
    tmp_path: Path, state: State
) -> None:
    real = await sqlite_ledger(tmp_path / "l.db")
    store = SwitchableStore(real.store)
    from alphadesk.engine.ledger import FillWriter

    small = DiskSpool(tmp_path / "small", max_records=4)
    ingest = Ingest(FillWriter(store), small, bus=state.bus, db_retry_s=0.0)  # type: ignore[arg-type]
    store.down = True
    batch = fills(6)
    await ingest.ingest(batch[:3])
    with pytest.raises(SpoolFull):
        await ingest.ingest(batch[3:6])
    assert small.depth().records == 3
    store.down = False
    await ingest.recover()
    assert await real.exec_ids() == [f.exec_id for f in batch[:3]]
    small.close()
    await real.store.close()


async def test_funding_is_recorded_as_funding_and_forced_fills_alert(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    alerts = Alerts()
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions, alerts=alerts)
    opened = fills(1, qty="0.5", side="Buy")
    funding = [
        f
        for f in decode_frame(execution_frame([execution_row(
            execType="Funding", execQty="0.5", execFee="0.12", execTime="1746270500000",
            side="Buy", closedSize="0")]))
        if isinstance(f, Fill)
    ]
    await ingest.ingest(opened + funding)
    assert await ledger.exec_ids("funding") == [funding[0].exec_id]
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("0.5")  # funding moved no qty
    (record,) = (await ledger.writer.store.load_positions([(BOT, "BTCUSDT")])).values()
    assert record.position.funding == Decimal("0.12")

    adl = adl_fill()
    await ingest.ingest([adl])
    assert [a.kind for a in alerts.seen] == ["forced_fill"]
    assert alerts.seen[0].details["exec_id"] == adl.exec_id
    assert adl.exec_id in await ledger.exec_ids()
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == 0 and position.side is None
    await ingest.ingest([adl])  # the same ADL again: no second alert
    assert len(alerts.seen) == 1


async def test_position_snapshots_are_checked_against_the_ledger(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    alerts = Alerts()
    ingest = Ingest(ledger.writer, spool, alerts=alerts,
                    account_bots={("bybit", ACCOUNT): [BOT]})
    await ingest.ingest(fills(2, qty="0.01", side="Sell"))
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Sell", "0.02")))
    assert alerts.seen == [] and ingest.needs_reconcile == set()

    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Sell", "0.03")))
    assert [a.kind for a in alerts.seen] == ["position_mismatch"]
    assert alerts.seen[0].details == {"venue_qty": "-0.03", "ledger_qty": "-0.02"}
    assert ingest.take_reconcile() == {("bybit", ACCOUNT, "BTCUSDT")}

    await ingest.ingest(decode_frame(position_frame("ETHUSDT", "", "0")))  # flat = flat
    assert len(alerts.seen) == 1


async def test_snapshot_mismatch_waits_for_the_grace_period(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    alerts = Alerts()
    clock = ManualClock()
    ingest = Ingest(ledger.writer, spool, alerts=alerts, mismatch_grace_s=5, clock=clock,
                    account_bots={("bybit", ACCOUNT): [BOT]})
    early = fills(1, qty="0.01", side="Buy")
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Buy", "0.01")))  # overtook
    await ingest.ingest(early)
    clock.advance(6)
    await ingest.recheck()
    assert alerts.seen == []
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Buy", "0.05")))
    clock.advance(4)
    await ingest.recheck()
    assert alerts.seen == []  # still inside the grace period: it may yet be explained
    clock.advance(2)
    await ingest.recheck()
    assert [a.kind for a in alerts.seen] == ["position_mismatch"]


async def test_a_fresh_venue_view_replaces_a_suspect_a_dropped_socket_left_stale(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    alerts = Alerts()
    clock = ManualClock()
    ingest = Ingest(ledger.writer, spool, alerts=alerts, mismatch_grace_s=5, clock=clock,
                    account_bots={("bybit", ACCOUNT): [BOT]})
    await ingest.ingest(fills(1, qty="0.01"))
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Buy", "0.02")))  # overtook
    await ingest.ingest(fills(1, start_ms=T0 + 5_000, qty="0.01"))  # its execution
    # the socket dropped: the next execution came back by gap-fill, its position push never did
    await ingest.ingest(fills(1, start_ms=T0 + 9_000, qty="0.01"))

    def listed(size: str) -> list[PositionReported]:
        frame = decode_frame(position_frame("BTCUSDT", "Buy", size))
        return [e for e in frame if isinstance(e, PositionReported)]

    await ingest.venue_positions("bybit", ACCOUNT, listed("0.03"))  # REST, after the gap-fill
    clock.advance(6)
    await ingest.recheck()
    assert alerts.seen == []  # the stale 0.02 push is not held against a 0.03 ledger

    # the same with a close: the venue lists no BTCUSDT position at all once it is flat
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Buy", "0.04")))  # overtook
    await ingest.ingest(fills(1, start_ms=T0 + 12_000, qty="0.03", side="Sell"))  # gap-filled
    await ingest.venue_positions("bybit", ACCOUNT, [])
    clock.advance(6)
    await ingest.recheck()
    assert alerts.seen == []

    await ingest.venue_positions("bybit", ACCOUNT, listed("0.05"))  # a real difference
    clock.advance(6)
    await ingest.recheck()
    assert [a.details for a in alerts.seen] == [{"venue_qty": "0.05", "ledger_qty": "0.00"}]


async def test_unreadable_ledger_means_unknown_never_flat(
    tmp_path: Path, spool: DiskSpool
) -> None:
    real = await sqlite_ledger(tmp_path / "l.db")
    alerts = Alerts()
    from alphadesk.engine.ledger import FillWriter

    store = SwitchableStore(real.store)
    ingest = Ingest(FillWriter(store), spool, alerts=alerts, db_retry_s=60.0)  # type: ignore[arg-type]
    store.down = True
    await ingest.ingest(fills(1))  # spooled; the ledger is now behind
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Buy", "0.01")))
    assert alerts.seen == [] and ingest.stats.unchecked_snapshots == 1
    await real.store.close()


async def test_unknown_reports_are_counted_not_fatal(
    ledger: Ledger, spool: DiskSpool
) -> None:
    ingest = Ingest(ledger.writer, spool)
    batch = fills(2)
    result = await ingest.ingest([batch[0], {"topic": "nonsense"}, 42, batch[1]])
    assert len(result.inserted) == 2 and ingest.stats.unknown == 2


async def test_a_restarted_listener_rebuilds_live_positions_from_the_ledger(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    crashed = Ingest(ledger.writer, spool)  # committed, then died before touching Redis
    await crashed.ingest(fills(3, qty="0.5"))
    assert await state.positions.get_position(BOT, "BTCUSDT") is None
    restarted = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions)
    await restarted.recover()
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("1.5") and position.seq == 3


async def test_a_mismatch_is_put_on_the_alerts_stream(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """As ``alphadesk listener`` wires it: the bus is the alert sink, so a phone or dashboard in
    another process reads the alert from ``events:alerts``."""
    ingest = Ingest(ledger.writer, spool, bus=state.bus, alerts=state.bus,
                    account_bots={("bybit", ACCOUNT): [BOT]})
    await ingest.ingest(fills(1, qty="0.01", side="Sell"))
    await ingest.ingest(decode_frame(position_frame("BTCUSDT", "Sell", "0.05")))
    (delivery,) = await state.bus.alerts.read("telegram", "phone")
    assert delivery.event.kind == "position_mismatch"
    assert delivery.event.details == {"venue_qty": "-0.05", "ledger_qty": "-0.01"}


class DownBus:
    """The real bus, except that publishing fails (Redis gone between commit and announce)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def publish_fills(self, fills: Sequence[Fill], **_: object) -> list[str]:
        raise ConnectionError("redis is down")

    async def announced(self) -> dict[str, int]:
        raise ConnectionError("redis is down")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_fills_committed_but_never_announced_are_announced_after_a_restart(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """The process dies after the commit and before the announcement: the next one finds the
    stream's mark behind the ledger and announces exactly the missing fills, once."""
    batch = fills(6)
    first = Ingest(ledger.writer, spool, bus=state.bus)
    await first.ingest(batch[:3])
    first.bus = DownBus(state.bus)  # type: ignore[assignment]
    await first.ingest(batch[3:])  # committed; the announcement fails; then the process dies
    assert first.stats.publish_failures == 1
    assert await state.stream_ids() == [f.exec_id for f in batch[:3]]

    second = Ingest(FillWriter(ledger.store), spool, bus=state.bus)
    await second.recover()
    assert await state.stream_ids() == [f.exec_id for f in batch]
    third = Ingest(FillWriter(ledger.store), spool, bus=state.bus)
    await third.recover()
    await third.ingest(fills(1, start_ms=T0 + 3_600_000))
    ids = await state.stream_ids()
    assert len(ids) == len(set(ids)) == 7


async def test_a_long_bus_outage_drops_nothing_from_memory_bound(
    ledger: Ledger, state: State, spool: DiskSpool
) -> None:
    """More fills wait than memory may hold: the list is dropped, and the ledger (past the
    stream's mark) supplies them when the bus is back."""
    batch = fills(9)
    ingest = Ingest(ledger.writer, spool, bus=state.bus, max_unpublished=4, state_retry_s=0.0)
    await ingest.ingest(batch[:1])
    ingest.bus = DownBus(state.bus)  # type: ignore[assignment]
    for start in range(1, 9, 2):
        await ingest.ingest(batch[start : start + 2])
    assert ingest.pending_state <= 4
    ingest.bus = state.bus
    await ingest.recover()
    assert sorted(await state.stream_ids()) == sorted(f.exec_id for f in batch)
