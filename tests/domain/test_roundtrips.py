from __future__ import annotations

from decimal import Decimal

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.roundtrips import FifoMatcher, match
from alphadesk.testing.builders import make_fill

D = Decimal


def test_fifo_over_partial_fills_allocates_fees_pro_rata() -> None:
    fills = [
        make_fill("Buy", "1", "100", "0.30", seconds=0, exec_id="b1", order_id="o1"),
        make_fill("Buy", "2", "110", "0.60", seconds=60, exec_id="b2", order_id="o2"),
        make_fill("Sell", "1.5", "120", "0.90", seconds=3600, exec_id="s1", order_id="o3"),
        make_fill("Sell", "1.5", "90", "0.30", seconds=7200, exec_id="s2", order_id="o3"),
    ]
    trips = match("shortseller_001", "BTCUSDT", fills)
    assert [(t.entry_exec_id, t.exit_exec_id, t.qty) for t in trips] == [
        ("b1", "s1", D(1)),
        ("b2", "s1", D("0.5")),
        ("b2", "s2", D("1.5")),
    ]
    first, second, third = trips
    assert first.gross_pnl == D(20) and first.entry_fee == D("0.30") and first.exit_fee == D("0.6")
    assert second.entry_fee == D("0.15") and second.exit_fee == D("0.3")
    assert third.entry_fee == D("0.45") and third.exit_fee == D("0.30")
    assert third.gross_pnl == D("-30.0")
    assert first.holding_seconds == 3600 and third.holding_seconds == 7140
    assert sum(t.fees for t in trips) == D("2.10")
    assert first.net_pnl == D("19.1")
    assert first.pnl_pct == D("19.1")
    assert first.entry_side is Side.BUY and first.exit_side is Side.SELL
    assert len({t.trade_id for t in trips}) == 3


def test_short_round_trip_and_flip_split_the_fee() -> None:
    fills = [
        make_fill("Sell", "2", "100", "0.2", exec_id="s1"),
        make_fill("Buy", "3", "90", "0.3", seconds=10, exec_id="b1"),
        make_fill("Sell", "1", "95", "0.1", seconds=20, exec_id="s2"),
    ]
    trips = match("shortseller_001", "BTCUSDT", fills)
    assert [(t.entry_side, t.qty, t.gross_pnl) for t in trips] == [
        (Side.SELL, D(2), D(20)),
        (Side.BUY, D(1), D(5)),
    ]
    assert trips[0].exit_fee == D("0.2")
    assert trips[1].entry_fee == D("0.1")


def test_funding_is_allocated_to_open_lots() -> None:
    matcher = FifoMatcher("shortseller_001", "BTCUSDT")
    matcher.add(make_fill("Buy", "1", "100", "0", exec_id="b1"))
    matcher.add(make_fill("Buy", "3", "100", "0", exec_id="b2", seconds=1))
    matcher.add(make_fill("Buy", "4", "100", "0.8", exec_type=ExecType.FUNDING, seconds=2))
    trips = matcher.add(make_fill("Sell", "4", "100", "0", seconds=3))
    assert [t.funding for t in trips] == [D("0.2"), D("0.6")]
    assert sum(t.net_pnl for t in trips) == D("-0.8")


def test_rerunning_the_matcher_gives_the_same_trade_ids() -> None:
    fills = [make_fill("Buy", "1", "100", exec_id="a"), make_fill("Sell", "1", "101", exec_id="b")]
    one = [t.trade_id for t in match("shortseller_001", "BTCUSDT", fills)]
    two = [t.trade_id for t in match("shortseller_001", "BTCUSDT", list(reversed(fills)))]
    assert one == two and len(one[0]) <= 100
