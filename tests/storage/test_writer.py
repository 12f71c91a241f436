"""Exactly-once writes: the same fill twice, overlapping batches and in-batch repeats are stored
once, and the WriteResult says which fills were new and which were duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ledger_support import Ledger, MakeFill

from alphadesk.domain.enums import ExecType
from alphadesk.domain.fills import FillKey

T0 = datetime(2025, 5, 3, 11, 6, 40, 353000, tzinfo=UTC)


async def test_writing_a_fill_twice_stores_it_once_and_says_so(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    fill = make_fill(at=T0)
    first = await ledger.writer.write([fill])
    second = await ledger.writer.write([fill])
    assert first.inserted == (fill.key,) and first.duplicates == ()
    assert second.inserted == () and second.duplicates == (fill.key,)
    assert await ledger.count("fills") == 1


async def test_overlapping_batches_store_each_fill_once(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    a, b, c, d = (make_fill(at=T0 + timedelta(seconds=i)) for i in range(4))
    first = await ledger.writer.write([a, b, c])
    second = await ledger.writer.write([b, c, d])
    assert first.inserted_count == 3 and first.duplicate_count == 0
    assert second.inserted == (d.key,)
    assert set(second.duplicates) == {b.key, c.key}
    assert await ledger.count("fills") == 4


async def test_duplicates_within_one_batch_are_reported(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    a, b = make_fill(at=T0), make_fill(at=T0 + timedelta(seconds=1))
    result = await ledger.writer.write([a, a, b, a])
    assert result.inserted == (a.key, b.key)
    assert result.duplicates == (a.key, a.key)
    assert await ledger.count("fills") == 2


async def test_same_exec_id_on_another_account_is_another_fill(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    fill = make_fill(at=T0)
    other = make_fill(at=T0, execId=fill.exec_id)
    other_account = type(fill)(
        **{**{n: getattr(other, n) for n in other.__dataclass_fields__}, "account": "999"}
    )
    result = await ledger.writer.write([fill, other_account])
    assert result.inserted == (fill.key, FillKey("bybit", "999", fill.exec_id))


async def test_read_back_preserves_every_digit_and_the_utc_instant(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    written = [
        make_fill(
            at=datetime(2025, 11, 7, 1, 55, 5, 908123, tzinfo=UTC),
            execPrice="95900.123456789012345678",
            execQty="0.500",
            execFee="-0.000000000000000001",
            isMaker=True,  # a rebate: only a maker's fee may be negative
            closedSize="0.000",
        ),
        make_fill(
            at=datetime(2025, 11, 7, 1, 55, 6, tzinfo=UTC),
            symbol="1000PEPEUSDT",
            side="Buy",
            execPrice="0.00001234",
            execQty="123456789012.5",
            execFee="26.3725275",
            isMaker=True,
        ),
    ]
    await ledger.writer.write(written)
    back = await ledger.writer.read_fills(venue="bybit", account="386825804")
    assert back == sorted(written, key=lambda f: (f.exec_time, f.exec_id))
    assert str(back[0].price) == "95900.123456789012345678"
    assert str(back[0].qty) == "0.500"
    assert str(back[0].fee) == "-1E-18"
    assert back[0].exec_time.utcoffset() == timedelta(0)
    assert back[0].exec_time.microsecond == 908123
    assert back[1].is_maker is True
    assert await ledger.writer.read_fills(symbol="1000PEPEUSDT") == [written[1]]


async def test_last_exec_time_per_venue_account(ledger: Ledger, make_fill: MakeFill) -> None:
    assert await ledger.writer.last_exec_time("bybit", "386825804") is None
    early, late = T0, T0 + timedelta(hours=3, microseconds=250)
    funding_time = T0 + timedelta(hours=8)
    await ledger.writer.write([make_fill(at=late), make_fill(at=early)])
    assert await ledger.writer.last_exec_time("bybit", "386825804") == late
    await ledger.writer.write([make_fill(at=funding_time, execType="Funding")])
    assert await ledger.writer.last_exec_time("bybit", "386825804") == funding_time
    assert await ledger.writer.last_exec_time("bybit", "other") is None


async def test_funding_is_kept_apart_from_trades_and_read_back(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    trade = make_fill(at=T0)
    funding = make_fill(at=T0 + timedelta(hours=8), execType="Funding", execFee="0.01234567")
    result = await ledger.writer.write([trade, funding])
    assert result.inserted_count == 2
    assert await ledger.count("fills") == 1
    assert await ledger.count("funding") == 1
    again = await ledger.writer.write([funding])
    assert again.duplicates == (funding.key,)
    assert await ledger.writer.read_fills() == [trade, funding]
    assert (await ledger.writer.read_fills(since=T0 + timedelta(hours=1))) == [funding]


async def test_a_large_batch_is_one_write(ledger: Ledger, make_fill: MakeFill) -> None:
    fills = [make_fill(at=T0 + timedelta(milliseconds=i), side="Buy") for i in range(500)]
    result = await ledger.writer.write(fills)
    assert result.inserted_count == 500
    again = await ledger.writer.write([*fills[250:], make_fill(at=T0 + timedelta(seconds=9))])
    assert again.inserted_count == 1 and again.duplicate_count == 250
    position = (await ledger.writer.positions([("lxalgo_001", "BTCUSDT")]))[
        ("lxalgo_001", "BTCUSDT")
    ]
    assert position.size == Decimal("0.5") * 500 - Decimal("0.5")


async def test_every_position_moving_exec_type_is_stored(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    kinds = [k for k in ExecType if k.moves_position]
    fills = [make_fill(execType=k.value, symbol="BTCUSDT") for k in kinds]
    result = await ledger.writer.write(fills)
    assert result.inserted_count == len(kinds)
    rows = await ledger.fetch("SELECT exec_type FROM trading.fills")
    assert sorted(r["exec_type"] for r in rows) == sorted(k.value for k in kinds)


async def test_text_that_json_must_escape_reads_back_unchanged(
    ledger: Ledger, make_fill: MakeFill
) -> None:
    """The batch travels to PostgreSQL as one JSON document: quotes, backslashes and non-ASCII
    characters in a venue's strings must come back as they went (control characters are refused
    in ids before they get here: see tests/domain/test_fills.py)."""
    odd = 'a"b\\c/d-é-✓\u2028'
    written = make_fill(at=T0, execId=f"x-{odd}", orderLinkId=odd, orderId="o'1")
    await ledger.writer.write([written])
    (back,) = await ledger.writer.read_fills(venue="bybit")
    assert (back.exec_id, back.order_link_id, back.order_id) == (f"x-{odd}", odd, "o'1")
    assert back == written
