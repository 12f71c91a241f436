"""The listener process against the simulator: real sockets, real signing, real ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from listener_support import Ledger, sqlite_ledger
from sim_support import (
    BTC_5M,
    FAST_WS,
    config,
    eventually,
    market,
    sim_account,
    sim_exec_ids,
    spec,
    trader,
    venue_clock,
)

from alphadesk.adapters.bybit.history import History
from alphadesk.adapters.bybit.parse import VENUE
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage.watermarks import FileWatermarks
from alphadesk.domain.enums import Side
from alphadesk.engine.gapfill import GapFiller
from alphadesk.engine.ingest import Ingest
from alphadesk.listener.service import Listener
from alphadesk.simulator import run_simulator

BOT = "shortseller_001"


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[Any]:
    async with run_simulator([market_csv(BTC_5M)], [sim_account(1)], history_bars=300) as s:
        yield s


@pytest_asyncio.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    made = await sqlite_ledger(tmp_path / "ledger.db")
    yield made
    await made.store.close()


async def _listener(sim: Any, ledger: Ledger, tmp_path: Path, state: MemoryState,
                    watermarks: FileWatermarks | None = None) -> Listener:
    ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"), bus=state.bus,
                    positions=state.positions, markets=state.market)
    listener = Listener(ingest, [spec(sim, sim_account(1), BOT)], venue_clock=venue_clock(sim),
                        ws_settings=FAST_WS, housekeeping_s=0.05,
                        health_file=tmp_path / "health.json", watermarks=watermarks)
    await listener.start()
    return listener


async def test_fills_over_the_private_socket_land_once(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    state = MemoryState()
    listener = await _listener(sim, ledger, tmp_path, state)
    client = await trader(sim, sim_account(1))
    try:
        sim.faults.duplicate_execution(3)
        for side in (Side.BUY, Side.BUY, Side.SELL, Side.BUY):
            await market(client, BOT, "BTCUSDT", side, "0.01")
        expected = sim_exec_ids(sim, "acct1")
        assert len(expected) == 4
        await eventually(lambda: _ids(ledger, expected))
        assert sorted(await ledger.exec_ids()) == sorted(expected)
        position = await state.positions.get_position(BOT, "BTCUSDT")
        assert position is not None and str(position.size) == "0.02"
        assert listener.ingest.stats.duplicates >= 3
        await listener.tick()
        report = listener.report()
        assert report.healthy and report.accounts[0].connected
        assert (tmp_path / "health.json").read_text().count('"connected": true') == 1
    finally:
        await client.close()
        await listener.close()


async def test_dropped_socket_reconnects_and_gapfill_recovers(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    state = MemoryState()
    listener = await _listener(sim, ledger, tmp_path, state)
    client = await trader(sim, sim_account(1))
    feed = listener.feeds[0]
    try:
        await market(client, BOT, "BTCUSDT", Side.BUY, "0.01")
        await eventually(lambda: _ids(ledger, sim_exec_ids(sim, "acct1")))
        runs = feed.gapfill.runs
        sim.faults.drop_ws_after(1, channel="private")
        for _ in range(5):  # pushed while the socket is down: only the REST history has them
            await market(client, BOT, "BTCUSDT", Side.BUY, "0.01")
        expected = sim_exec_ids(sim, "acct1")
        assert len(expected) == 6
        await eventually(lambda: _ids(ledger, expected))
        assert feed.session.reconnects >= 1 and feed.gapfill.runs > runs
        await listener.tick()
        assert listener.report().accounts[0].reconnects == feed.session.reconnects
        assert sorted(await ledger.exec_ids()) == sorted(expected)
        position = await state.positions.get_position(BOT, "BTCUSDT")
        assert position is not None and str(position.size) == "0.06"
    finally:
        await client.close()
        await listener.close()


async def test_startup_gapfill_records_what_happened_while_stopped(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    client = await trader(sim, sim_account(1))
    try:
        for _ in range(3):
            await market(client, BOT, "BTCUSDT", Side.SELL, "0.01")
    finally:
        await client.close()
    marks = tmp_path / "watermarks.json"
    listener = await _listener(sim, ledger, tmp_path, MemoryState(), FileWatermarks(marks))
    try:
        assert sorted(await ledger.exec_ids()) == sorted(sim_exec_ids(sim, "acct1"))
        last = listener.feeds[0].gapfill.last
        assert last is not None and last.inserted == 3
        newest = max(f.exec_time for f in await ledger.writer.read_fills())
        assert FileWatermarks(marks).get("acct1") == newest  # durable, read back
        gapfill = listener.feeds[0].gapfill
        assert await gapfill.since() == newest - gapfill.overlap
    finally:
        await listener.close()


async def test_a_hole_far_below_fills_recorded_live_is_still_filled(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    """A gap-filler given no durable watermarks keeps them in memory: it never starts from the
    ledger's newest execution, which live fills can carry past a hole (a push lost, then newer
    fills recorded from the socket before the reconnect's gap-fill asks where to start)."""
    state = MemoryState()
    ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"), bus=state.bus,
                    positions=state.positions, markets=state.market)
    rest = BybitRest(config(sim, sim_account(1)))
    await rest.sync_clock()
    history = History(rest, default_bot=BOT)
    clock = venue_clock(sim)
    gapfill = GapFiller(ingest, VENUE, "acct1", history, clock=clock)  # no watermarks given
    client = await trader(sim, sim_account(1))
    start = clock()
    try:
        for _ in range(2):  # the second round runs from the first's watermark
            lost = sim_exec_ids(sim, "acct1")
            await market(client, BOT, "BTCUSDT", Side.BUY, "0.01")  # its push is lost
            lost = sim_exec_ids(sim, "acct1") - lost
            sim.advance(bars=12)  # an hour: far more than the gap-fill's overlap
            await market(client, BOT, "BTCUSDT", Side.SELL, "0.01")
            fetched = await history.executions(start, clock())
            live = max((f for f in fetched if f.side is Side.SELL), key=lambda f: f.exec_time)
            await ingest.ingest([live])  # the newer fill, recorded from the socket
            assert set(await ledger.exec_ids()).isdisjoint(lost)
            result = await gapfill.run()
            assert result.start <= min(f.exec_time for f in fetched if f.exec_id in lost)
            assert set(await ledger.exec_ids()) == sim_exec_ids(sim, "acct1")
        assert result.inserted == 1
    finally:
        await client.close()
        await rest.close()


async def _ids(ledger: Ledger, expected: set[str]) -> bool:
    return set(await ledger.exec_ids()) == expected
