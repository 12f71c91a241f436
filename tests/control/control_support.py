"""A seeded desk for the control tests: two registered bots, known fills and round trips, an
equity snapshot or two; every expected figure below is worked out by hand from these fills."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.adapters.storage.control_reads import open_control_ledger
from alphadesk.adapters.storage.order_records import open_records
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.sync_status import open_sync_status
from alphadesk.domain.events import WalletReported
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.control import Control
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.testing.builders import T0, make_fill

NOW = datetime(2025, 11, 9, 12, 0, tzinfo=UTC)  # a Sunday; T0 is Friday 2025-11-07 01:55
DAY = 86_400
SS = "shortseller_001"
LX = "lxalgo_001"


def fills() -> list[Any]:
    ss = {"bot_id": SS, "account": "shortseller"}
    lx = {"bot_id": LX, "account": "lxalgo"}
    return [
        # shortseller: a winning BTC short closed on Nov 7 (gross 10, fees 0.2, net 9.8) ...
        make_fill("Sell", "1", "100", "0.1", seconds=0, exec_id="ss-1", **ss),
        make_fill("Buy", "1", "90", "0.1", seconds=3600, exec_id="ss-2", **ss),
        # ... a losing ETH long closed on Nov 8 (gross -10, fees 0.1, net -10.1) ...
        make_fill("Buy", "2", "50", "0.05", symbol="ETHUSDT", seconds=DAY, exec_id="ss-3", **ss),
        make_fill(
            "Sell", "2", "45", "0.05", symbol="ETHUSDT", seconds=DAY + 7200, exec_id="ss-4", **ss
        ),
        # ... and a BTC short still open (0.5 at 110)
        make_fill("Sell", "0.5", "110", "0.055", seconds=2 * DAY, exec_id="ss-5", **ss),
        # lxalgo: a winning SOL long closed on Nov 8 (gross 20, no fees)
        make_fill("Buy", "10", "20", "0", symbol="SOLUSDT", seconds=DAY + 60, exec_id="lx-1", **lx),
        make_fill(
            "Sell", "10", "22", "0", symbol="SOLUSDT", seconds=DAY + 120, exec_id="lx-2", **lx
        ),
    ]


async def seed(url: str) -> None:
    """Register the bots, write the fills through the fill writer, build the round trips and
    record two venue equity snapshots of shortseller."""
    bots = await open_bots(url)
    try:
        await bots.register(BotRecord(SS, SS, "shortseller", "shortseller", "active", "demo",
                                      Decimal(10_000), Decimal("10004.5"),
                                      NOW - timedelta(seconds=10)))  # fmt: skip
        await bots.register(BotRecord(LX, LX, "lxalgo", "lxalgo", "stopped", "paper",
                                      Decimal(5_000), Decimal(5_020),
                                      NOW - timedelta(hours=1)))  # fmt: skip
    finally:
        await bots.close()
    store = await open_store(url)
    trips = await open_round_trips(url)
    try:
        result = await FillWriter(store).write(fills())
        assert result.inserted_count == 7
        await RoundTripKeeper(store, trips).rebuild()
    finally:
        await trips.close()
        await store.close()
    records = await open_records(url, {"shortseller": SS})
    try:
        await records.record_equity([
            WalletReported("bybit", "shortseller", Decimal(10_000), Decimal(10_000),
                           Decimal(9_000), Decimal(0), T0),
            WalletReported("bybit", "shortseller", Decimal("10004.5"), Decimal("9999.5"),
                           Decimal("9944.5"), Decimal(5), NOW - timedelta(minutes=5)),
        ])  # fmt: skip
    finally:
        await records.close()


@asynccontextmanager
async def control_over(url: str, state: Any, **kwargs: Any) -> AsyncIterator[Control]:
    """The real facade over the real ledger adapters and a live state, at the fixed clock."""
    ledger = await open_control_ledger(url)
    store = await open_store(url)
    trips = await open_round_trips(url)
    audit = await open_audit(url)
    sync = await open_sync_status(url)
    try:
        yield Control(
            ledger=ledger, fills=store, trips=trips, audit=audit,
            live_positions=state.positions, markets=state.market, bot_status=state.bots,
            commands=state.bus, sync=sync, clock=kwargs.pop("clock", lambda: NOW),
            bars=kwargs.pop("bars", state.bus.bars), **kwargs,
        )  # fmt: skip
    finally:
        for closer in (sync, audit, trips, store, ledger):
            await closer.close()
