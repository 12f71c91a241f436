"""The position projection in trading.positions follows the fills that were actually new:
open, add, partial close, a flip through zero, a funding payment (PnL, never size), fills that
arrive out of order, and replays that must not count twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ledger_support import Ledger, MakeFill

from alphadesk.domain.positions import fold
from alphadesk.engine.ledger import FillWriter

T0 = datetime(2025, 10, 24, 5, 15, 47, 599000, tzinfo=UTC)
KEY = ("lxalgo_001", "BTCUSDT")


def _trade(make_fill: MakeFill, minutes: int, side: str, price: str, qty: str, fee: str):  # type: ignore[no-untyped-def]
    return make_fill(
        at=T0 + timedelta(minutes=minutes),
        side=side,
        execPrice=price,
        execQty=qty,
        execFee=fee,
    )


async def _row(ledger: Ledger) -> dict[str, object]:
    placeholder = "$1" if ledger.backend == "postgres" else "?"
    rows = await ledger.fetch(
        "SELECT size, side, avg_entry_price, realized_pnl, funding, fees, fill_count"
        f" FROM trading.positions WHERE bot_id = {placeholder}",
        "lxalgo_001",
    )
    assert len(rows) == 1
    return {
        k: (Decimal(v) if k not in ("side", "fill_count") and v is not None else v)
        for k, v in rows[0].items()
    }


async def test_open_add_close_flip_and_funding(ledger: Ledger, make_fill: MakeFill) -> None:
    w = ledger.writer
    await w.write([_trade(make_fill, 0, "Buy", "95000", "0.2", "10.45")])
    await w.write([_trade(make_fill, 1, "Buy", "96000", "0.2", "10.56")])
    row = await _row(ledger)
    assert row["side"] == "Buy" and row["size"] == Decimal("0.4")
    assert row["avg_entry_price"] == Decimal("95500")

    # Funding: PnL moves, size does not.
    funding = make_fill(
        at=T0 + timedelta(minutes=2),
        execType="Funding",
        execPrice="95900.1",
        execQty="0.4",
        execFee="3.8360040",
    )
    await w.write([funding])
    row = await _row(ledger)
    assert row["size"] == Decimal("0.4") and row["side"] == "Buy"
    assert row["funding"] == Decimal("3.8360040")
    assert row["realized_pnl"] == Decimal("-10.45") - Decimal("10.56") - Decimal("3.8360040")

    # Sell 0.6: closes the 0.4 long at 97000 (+600) and opens a 0.2 short.
    await w.write([_trade(make_fill, 3, "Sell", "97000", "0.6", "32.01")])
    row = await _row(ledger)
    assert row["side"] == "Sell" and row["size"] == Decimal("0.2")
    assert row["avg_entry_price"] == Decimal("97000")
    expected_realized = (
        Decimal("600")
        - Decimal("10.45")
        - Decimal("10.56")
        - Decimal("3.8360040")
        - Decimal("32.01")
    )
    assert row["realized_pnl"] == expected_realized
    assert row["fill_count"] == 4

    # Buy back the short at 96500: +100; flat, side and average cleared.
    await w.write([_trade(make_fill, 4, "Buy", "96500", "0.2", "10.615")])
    row = await _row(ledger)
    assert row["size"] == 0 and row["side"] is None and row["avg_entry_price"] is None
    assert row["realized_pnl"] == expected_realized + Decimal("100") - Decimal("10.615")

    stored = (await w.positions([KEY]))[KEY]
    assert stored == fold(*KEY, await w.read_fills(bot_id=KEY[0], symbol=KEY[1]))


async def test_replaying_fills_does_not_move_the_projection(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    fills = [
        _trade(make_fill, 0, "Sell", "3000.5", "1.5", "2.475825"),
        _trade(make_fill, 1, "Buy", "2990", "0.5", "0.82225"),
    ]
    await ledger.writer.write(fills)
    before = await _row(ledger)
    result = await ledger.writer.write(list(reversed(fills)))
    assert result.inserted_count == 0
    assert await _row(ledger) == before
    assert before["side"] == "Sell" and before["size"] == Decimal("1.0")


async def test_an_older_fill_arriving_late_rebuilds_from_the_ledger(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    early = _trade(make_fill, 0, "Buy", "100", "1", "0.055")
    late = _trade(make_fill, 10, "Sell", "110", "1", "0.0605")
    await ledger.writer.write([late])
    row = await _row(ledger)
    assert row["side"] == "Sell"
    await ledger.writer.write([early])  # gap-filled from REST after a reconnect
    row = await _row(ledger)
    assert row["size"] == 0 and row["side"] is None
    assert row["realized_pnl"] == Decimal("10") - Decimal("0.055") - Decimal("0.0605")
    assert row["fill_count"] == 2


class _CountingReads:
    """The ledger store, counting the whole-history reads a rebuild makes."""

    def __init__(self, store: object) -> None:
        self._store = store
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def read_fills(self, **filters: object) -> object:
        self.reads += 1
        return await self._store.read_fills(**filters)  # type: ignore[attr-defined]


async def test_late_fills_inside_the_tail_refold_without_reading_the_ledger(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    """Frames reordered on the wire: each late fill is folded in from the kept tail (no ledger
    read), and the row equals folding every fill in order; one older than the whole tail still
    rebuilds from the ledger."""
    fills = [
        _trade(make_fill, i, "Buy" if i % 3 else "Sell", f"{100 + i}.5", "0.5", "0.01")
        for i in range(12)
    ]
    store = _CountingReads(ledger.store)
    writer = FillWriter(store, tail_limit=4)  # type: ignore[arg-type]
    await writer.write(fills[1:2])  # first touch of the row: one rebuild
    assert store.reads == 1
    arrival = [3, 2, 5, 4, 7, 6, 9, 8, 11, 10]
    for i in arrival:
        await writer.write([fills[i]])
    assert store.reads == 1
    written = [fills[1], *(fills[i] for i in arrival)]
    assert (await writer.positions([KEY]))[KEY] == fold(*KEY, written)
    await writer.write([fills[0]])  # older than anything the 4-fill tail kept
    assert store.reads == 2
    assert (await writer.positions([KEY]))[KEY] == fold(*KEY, fills)
    assert (await _row(ledger))["fill_count"] == 12


async def test_rebuild_matches_fold_after_the_projection_is_lost(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    fills = [
        _trade(make_fill, i, "Buy" if i % 3 else "Sell", f"{95000 + 7 * i}.5", "0.013", "0.6")
        for i in range(12)
    ]
    await ledger.writer.write(fills)
    await ledger.fetch("DELETE FROM trading.positions")
    rebuilt = await ledger.writer.rebuild_positions([KEY])
    assert rebuilt[KEY] == fold(*KEY, fills)
    assert (await _row(ledger))["fill_count"] == 12


async def test_a_fill_repeated_inside_one_batch_is_folded_once(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    """The venue pushes an execution twice and both copies land in one batch (the listener
    batches frames): the ledger stores it once, and the projection must count it once."""
    first = _trade(make_fill, 0, "Buy", "100", "1", "0.05")
    await ledger.writer.write([first])
    again = _trade(make_fill, 1, "Buy", "101", "2", "0.1")
    result = await ledger.writer.write([again, again])
    assert result.inserted_count == 1 and result.duplicate_count == 1
    row = await _row(ledger)
    assert row["size"] == Decimal("3") and row["fill_count"] == 2
    assert (await ledger.writer.positions([KEY]))[KEY] == fold(*KEY, [first, again])
