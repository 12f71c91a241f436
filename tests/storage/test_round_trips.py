"""Round trips in the ledger: ``trading.completed_trades`` follows fills recorded through a
:class:`FillRecorder`, on SQLite and on PostgreSQL through PgBouncer.

Each check compares the stored rows with :func:`alphadesk.domain.roundtrips.match` over the
ledger's own fills, so the table can be trusted as the matcher's output: as fills land in any
order, on replays and duplicates, after a late fill, and after ``rebuild``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from ledger_support import Ledger, MakeFill

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse import closed_pnl_from_info
from alphadesk.adapters.bybit.wire import convert
from alphadesk.adapters.storage.round_trips import (
    PostgresRoundTrips,
    SqliteRoundTrips,
    open_round_trips,
)
from alphadesk.domain.fills import Fill
from alphadesk.domain.roundtrips import RoundTrip, match
from alphadesk.engine.ports import StoredRoundTrip
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper, attach_closed_pnl

D = Decimal
T0 = datetime(2025, 5, 3, 8, 0, tzinfo=UTC)
BOT = "lxalgo_001"
OTHER = "momentum_001"

Store = PostgresRoundTrips | SqliteRoundTrips


@pytest_asyncio.fixture
async def trips(ledger: Ledger) -> AsyncIterator[Store]:
    store = await open_round_trips(ledger.url)
    try:
        yield store
    finally:
        await store.close()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def trade(make_fill: MakeFill, bot: str, side: str, price: str, qty: str, minutes: float,
          *, symbol: str = "BTCUSDT", order: str = "", **fields: Any) -> Fill:  # fmt: skip
    return make_fill(bot_id=bot, at=at(minutes), symbol=symbol, side=side, execPrice=price,
                     execQty=qty, orderId=order or f"o-{minutes}", **fields)  # fmt: skip


def funding(make_fill: MakeFill, bot: str, fee: str, minutes: float, *, qty: str) -> Fill:
    return make_fill(bot_id=bot, at=at(minutes), execType="Funding", execPrice="95000",
                     execQty=qty, execFee=fee, side="Buy", orderId="")  # fmt: skip


def batches(make_fill: MakeFill) -> list[list[Fill]]:
    """Partial entries, a partial exit, funding (paid and received), an exit that flips the
    position, a second symbol and a second bot: every kind of round trip the matcher makes."""
    return [
        [
            trade(make_fill, BOT, "Buy", "95000", "0.2", 0, order="e1"),
            trade(make_fill, BOT, "Buy", "95010.5", "0.1", 0.5, order="e1"),
        ],
        [trade(make_fill, BOT, "Sell", "95500", "0.15", 30, order="x1")],
        [
            funding(make_fill, BOT, "1.2345", 60, qty="0.15"),
            trade(make_fill, OTHER, "Sell", "3000.5", "2", 61, symbol="ETHUSDT", order="s1"),
        ],
        [trade(make_fill, BOT, "Sell", "96000", "0.35", 90, order="x2")],  # closes 0.15, opens 0.2
        [
            funding(make_fill, BOT, "-0.5", 120, qty="0.2"),
            trade(make_fill, OTHER, "Buy", "2990", "2", 121, symbol="ETHUSDT", order="c1"),
            trade(make_fill, BOT, "Buy", "95800", "0.2", 150, order="x3"),
        ],
    ]


def _numbers(trip: RoundTrip | StoredRoundTrip) -> tuple[Any, ...]:
    fees = trip.fees
    return (trip.trade_id, trip.bot_id, trip.symbol, trip.entry_side, trip.qty, trip.entry_price,
            trip.exit_price, trip.entry_time, trip.exit_time, trip.gross_pnl, fees, trip.funding,
            trip.net_pnl, trip.holding_seconds, trip.exit_reason)  # fmt: skip


async def expected(ledger: Ledger) -> list[tuple[Any, ...]]:
    """What the matcher makes of the ledger's fills, key by key."""
    fills = await ledger.store.read_fills()
    keys = sorted({(f.bot_id, f.symbol) for f in fills})
    found = [t for k in keys for t in match(*k, [f for f in fills if (f.bot_id, f.symbol) == k])]
    return sorted(_numbers(t) for t in found)


async def stored(store: Store, **filters: Any) -> list[tuple[Any, ...]]:
    return sorted(_numbers(t) for t in await store.list_round_trips(**filters))


async def test_round_trips_follow_fills_as_they_land(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    keeper = RoundTripKeeper(ledger.store, trips)
    recorder = FillRecorder(ledger.writer, trades=keeper)
    for batch in batches(make_fill):
        result = await recorder.record(batch)
        assert len(result.inserted) == len(batch)
        assert await stored(trips) == await expected(ledger)
    rows = await trips.list_round_trips()
    assert len(rows) == 5  # 0.15+0.05 of the first lots, 0.1, the flipped short, and ETH
    assert {r.source for r in rows} == {"ledger"}
    assert keeper.owed == {}
    # the seed's columns carry the money: commissions are the fills' real fees
    raw = await ledger.fetch("SELECT entry_commission, exit_commission, total_commission, "
                             "holding_duration_seconds FROM trading.completed_trades")  # fmt: skip
    assert all(D(str(r["total_commission"])) > 0 for r in raw)
    assert all(D(str(r["entry_commission"])) + D(str(r["exit_commission"]))
               == D(str(r["total_commission"])) for r in raw)  # fmt: skip


async def test_replays_and_duplicates_change_nothing(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    keeper = RoundTripKeeper(ledger.store, trips)
    recorder = FillRecorder(ledger.writer, trades=keeper)
    sent = batches(make_fill)
    for batch in sent:
        await recorder.record(batch)
    before = await stored(trips)
    for batch in sent:  # the same fills again: duplicates, nothing new to match
        result = await recorder.record(batch)
        assert result.inserted == () and len(result.duplicates) == len(batch)
    await keeper.on_fills([f for batch in sent for f in batch])  # a forced replay
    assert await stored(trips) == before
    assert await ledger.count("completed_trades") == len(before)


async def test_a_late_fill_rematches_what_closed_after_it(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    """A fill older than round trips already written changes the FIFO pairs after it: the
    rows it unmade are deleted and the new ones written."""
    recorder = FillRecorder(ledger.writer, trades=RoundTripKeeper(ledger.store, trips))
    sent = batches(make_fill)
    for batch in sent[:4]:
        await recorder.record(batch)
    gone = {row[0] for row in await stored(trips, bot_id=BOT)}
    await recorder.record([trade(make_fill, BOT, "Sell", "96100", "0.05", 10, order="late")])
    after = await stored(trips)
    assert after == await expected(ledger)
    assert gone - {row[0] for row in after}, "the late entry must have changed some pairs"


async def test_rebuild_equals_incremental_and_funding_adds_up(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    keeper = RoundTripKeeper(ledger.store, trips)
    recorder = FillRecorder(ledger.writer, trades=keeper)
    sent = batches(make_fill)
    for batch in sent:
        await recorder.record(batch)
    incremental = await stored(trips)
    seen: list[tuple[int, int]] = []
    result = await keeper.rebuild(progress=lambda done, total, _key, _n: seen.append((done, total)))
    assert (result.keys, result.round_trips) == (2, len(incremental))
    assert seen == [(1, 2), (2, 2)]
    assert await stored(trips) == incremental
    # one bot's rebuild leaves the other's rows alone
    await ledger.fetch("DELETE FROM trading.completed_trades WHERE bot_id = " +
                       ("$1" if ledger.backend == "postgres" else "?"), OTHER)  # fmt: skip
    assert (await keeper.rebuild(BOT)).round_trips == 4
    assert await stored(trips, bot_id=OTHER) == []
    await keeper.rebuild(OTHER)
    assert await stored(trips) == incremental
    # both positions are flat: the round trips carry every funding payment, to the unit
    paid = sum((f.fee for batch in sent for f in batch if not f.moves_position), D(0))
    assert paid == D("0.7345")
    assert sum((t.funding for t in await trips.list_round_trips()), D(0)) == paid


async def test_fills_another_path_stored_are_matched_in(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    """The keeper extends its kept matcher only while the ledger holds exactly the fills it
    folded; a fill another recorder stored (a sync, a second process) makes it match afresh."""
    keeper = RoundTripKeeper(ledger.store, trips)
    recorder = FillRecorder(ledger.writer, trades=keeper)
    other_path = FillRecorder(ledger.writer)  # no keeper: as a path that never matched
    sent = batches(make_fill)
    for batch in sent[:2]:
        await recorder.record(batch)
    await other_path.record([trade(make_fill, BOT, "Sell", "96100", "0.05", 10, order="late")])
    for batch in sent[2:]:
        await recorder.record(batch)
    assert await stored(trips) == await expected(ledger)
    assert any(t.exit_order_id == "late" for t in await trips.list_round_trips())


class _FailsOnce:
    """The real store, whose first write fails as a dropped connection would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _fail(self) -> None:
        if self.armed:
            self.armed = False
            raise ConnectionResetError("connection lost")

    async def replace_since(self, *args: Any) -> int:
        self._fail()
        return await self.store.replace_since(*args)

    async def add_round_trips(self, *args: Any) -> int:
        self._fail()
        return await self.store.add_round_trips(*args)


async def test_a_failed_write_never_fails_the_fill_and_is_redone(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    flaky = _FailsOnce(trips)
    keeper = RoundTripKeeper(ledger.store, flaky)
    recorder = FillRecorder(ledger.writer, trades=keeper)
    sent = batches(make_fill)
    await recorder.record(sent[0])
    flaky.armed = True
    result = await recorder.record(sent[1])  # the exit's round trips fail to write
    assert len(result.inserted) == 1 and await ledger.count("fills") == 3
    assert list(keeper.owed) == [(BOT, "BTCUSDT")]
    assert await stored(trips) == []
    await recorder.record(sent[2])  # the next pass redoes the owed key
    assert keeper.owed == {}
    assert await stored(trips) == await expected(ledger)


# Bybit's ``/v5/position/closed-pnl`` row, with the field names and shapes of Bybit's V5 docs
# ("Get Closed PnL", bybit-exchange.github.io/docs/v5/position/close-pnl): no recorded payload
# of this endpoint exists in tests/fixtures/bybit_payloads, so the values are this test's.
def closed_pnl_row(order_id: str, closed_pnl: str, created: datetime, **extra: str) -> Any:
    ms = str(int(created.timestamp() * 1000))
    row = {
        "symbol": "BTCUSDT",
        "orderType": "Market",
        "leverage": "10",
        "side": "Sell",
        "updatedTime": ms,
        "orderId": order_id,
        "closedPnl": closed_pnl,
        "avgEntryPrice": "95003.5",
        "qty": "0.15",
        "cumEntryValue": "14250.525",
        "createdTime": ms,
        "orderPrice": "95500",
        "closedSize": "0.15",
        "avgExitPrice": "95500",
        "execType": "Trade",
        "fillCount": "1",
        "cumExitValue": "14325",
        "openFee": "7.83778875",
        "closeFee": "7.87875",
        **extra,
    }
    page = convert({"category": "linear", "list": [row], "nextPageCursor": ""},
                   w.ClosedPnlResult, "closed-pnl")  # fmt: skip
    return closed_pnl_from_info(page.list[0])


async def test_venue_closed_pnl_is_set_beside_its_round_trips(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    recorder = FillRecorder(ledger.writer, trades=RoundTripKeeper(ledger.store, trips))
    sent = batches(make_fill)
    for batch in sent[:4]:
        await recorder.record(batch)
    closes = await trips.list_round_trips(exit_order_id="x2")
    assert len(closes) == 2  # one exit order closed parts of two entry fills
    ledger_pnl = sum((t.gross_pnl - t.fees for t in closes), D(0))
    record = closed_pnl_row("x2", "134.1", at(90))
    missing = closed_pnl_row("not-ours", "1", at(30))
    result = await attach_closed_pnl(trips, BOT, [record, missing])
    assert (result.matched, result.round_trips, result.unmatched) == (1, 2, ("not-ours",))
    closes = await trips.list_round_trips(exit_order_id="x2")
    assert sum((t.venue_closed_pnl or D(0) for t in closes), D(0)) == D("134.1")
    assert sum((t.venue_pnl_diff or D(0) for t in closes), D(0)) == D("134.1") - ledger_pnl
    for t in closes:
        assert t.venue_pnl_diff == (t.venue_closed_pnl or D(0)) - (t.gross_pnl - t.fees)
    # a rewrite (new fills, a rebuild) keeps what it attached to round trips that did not change
    for batch in sent[4:]:
        await recorder.record(batch)
    await RoundTripKeeper(ledger.store, trips).rebuild(BOT)
    kept = await trips.list_round_trips(exit_order_id="x2")
    assert [(t.trade_id, t.venue_closed_pnl, t.venue_pnl_diff) for t in kept] == [
        (t.trade_id, t.venue_closed_pnl, t.venue_pnl_diff) for t in closes
    ]
    other = await attach_closed_pnl(trips, OTHER, [record])  # another bot's account
    assert (other.matched, other.unmatched) == (0, ("x2",))


async def test_a_close_without_order_id_matches_by_time(
    ledger: Ledger, trips: Store, make_fill: MakeFill
) -> None:
    recorder = FillRecorder(ledger.writer, trades=RoundTripKeeper(ledger.store, trips))
    await recorder.record([
        trade(make_fill, BOT, "Buy", "95000", "0.1", 0, order="e1"),
        make_fill(bot_id=BOT, at=at(5), side="Sell", execPrice="95100", execQty="0.1",
                  orderId=""),
    ])  # fmt: skip
    record = closed_pnl_row("venue-order", "4.5", at(5) - timedelta(milliseconds=300))
    far = closed_pnl_row("venue-order-2", "4.5", at(9))
    result = await attach_closed_pnl(trips, BOT, [record, far])
    assert (result.matched, result.unmatched) == (1, ("venue-order-2",))
    (trip,) = await trips.list_round_trips()
    assert trip.venue_closed_pnl == D("4.5")


@pytest.mark.parametrize("bot", ["unknown", "paper_bot_9"])
async def test_an_unregistered_bot_gets_a_placeholder_row(
    ledger: Ledger, trips: Store, make_fill: MakeFill, bot: str
) -> None:
    recorder = FillRecorder(ledger.writer, trades=RoundTripKeeper(ledger.store, trips))
    await recorder.record([trade(make_fill, bot, "Buy", "95000", "0.1", 0),
                           trade(make_fill, bot, "Sell", "95100", "0.1", 1)])  # fmt: skip
    assert len(await trips.list_round_trips(bot_id=bot)) == 1
    (row,) = await ledger.fetch("SELECT bot_type, status FROM trading.bots")
    assert (row["bot_type"], row["status"]) == ("unregistered", "stopped")
