"""The venue's ``seq`` is stored and read back on both backends, and every read (and the position
projection) comes back in the domain's fold order, not in exec id order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger_support import Ledger, MakeFill

from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order

T0 = datetime(2025, 5, 3, 11, 6, 40, 353000, tzinfo=UTC)
SEQ = 140612148849382  # the recorded push's seq


def _with_seq(fill: Fill, seq: int | None) -> Fill:
    return Fill(**{**{n: getattr(fill, n) for n in Fill.__dataclass_fields__}, "seq": seq})


def _trade(make_fill: MakeFill, exec_id: str, side: str, qty: str, price: str, seq: int) -> Fill:
    fee = Decimal(qty) * Decimal(price) * Decimal("0.00055")
    fill = make_fill(at=T0, execId=exec_id, side=side, execQty=qty, execPrice=price,
                     execFee=str(fee), closedSize="0")  # fmt: skip
    return _with_seq(fill, seq)


def _same_millisecond(make_fill: MakeFill) -> list[Fill]:
    """In the venue's order: funding on the long held up to the instant, then three trades
    (a buy adding, a sell that closes and flips short, a sell adding to the short), whose
    random ids sort the other way round."""
    funding = make_fill(
        at=T0,
        execId="f7e2-funding",
        execType="Funding",
        side="Buy",
        execQty="0.2",
        execPrice="95900.2",
        execFee="-0.57540120",
        orderId="",
        orderLinkId="",
        orderType="UNKNOWN",
        closedSize="0",
    )  # no seq: a row recorded before it was kept
    return [
        funding,
        _trade(make_fill, "e8a1-buy", "Buy", "0.3", "95900.1", SEQ),
        _trade(make_fill, "5b7e-flip", "Sell", "0.8", "95901.5", SEQ + 1),
        _trade(make_fill, "0c4f-add", "Sell", "0.2", "95899.0", SEQ + 2),
    ]


async def test_seq_round_trips_and_old_rows_read_back_without_it(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    biggest = _with_seq(make_fill(at=T0.replace(second=41)), 2**63 - 1)
    none = make_fill(at=T0.replace(second=42))
    written = [*_same_millisecond(make_fill), biggest, none]
    await ledger.writer.write(written)
    assert await ledger.writer.read_fills() == in_fold_order(written)
    back = {f.exec_id: f.seq for f in await ledger.writer.read_fills()}
    assert back[biggest.exec_id] == 2**63 - 1 and back[none.exec_id] is None
    assert back["e8a1-buy"] == SEQ
    rows = await ledger.fetch("SELECT exec_id, seq FROM trading.fills WHERE seq IS NULL")
    assert [r["exec_id"] for r in rows] == [none.exec_id]  # NULL in the column, not 0
    assert await ledger.writer.fills_after({"fills": 0, "funding": 0}) == in_fold_order(written)


async def test_reads_and_the_projection_follow_the_venues_order(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    """Written in exec id order, one at a time (each write a fold-tail refold): the stored
    position is the venue's (short 0.5 at 95900.5), and so is a rebuild from the ledger."""
    venue_order = _same_millisecond(make_fill)
    opening = _trade(make_fill, "9d9d-open", "Buy", "0.2", "95800.0", SEQ - 50)
    opening = Fill(**{**_fields(opening), "exec_time": T0.replace(hour=3)})
    for fill in sorted([opening, *venue_order], key=lambda f: f.exec_id):
        await ledger.writer.write([fill])
    read = await ledger.writer.read_fills(symbol="BTCUSDT")
    assert read == [opening, *venue_order]
    key = (opening.bot_id, "BTCUSDT")
    position = (await ledger.writer.positions([key]))[key]
    # long 0.5, closed by 0.5 of the flip; short 0.3 at 95901.5 plus 0.2 at 95899.0. In exec id
    # order the add would come before the flip and the short would stand at 95901.5.
    assert position.qty == Decimal("-0.5") and position.avg_entry_price == Decimal("95900.5")
    assert position.funding == Decimal("-0.57540120")
    rebuilt = (await ledger.writer.rebuild_positions([key]))[key]
    assert rebuilt == position
    row = (await ledger.fetch("SELECT last_exec_id FROM trading.positions"))[0]
    assert row["last_exec_id"] == "0c4f-add"  # the venue's last, not the largest exec id


def _fields(fill: Fill) -> dict[str, Any]:
    return {n: getattr(fill, n) for n in Fill.__dataclass_fields__}
