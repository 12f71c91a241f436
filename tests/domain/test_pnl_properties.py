"""Property tests: the identities the ledger is audited against hold for any fill sequence."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import Position
from alphadesk.domain.roundtrips import FifoMatcher
from alphadesk.testing.builders import make_fill

ZERO = Decimal(0)

qtys = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("50"), places=3)
prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4)
# A trade's fee is a rate of its notional (a maker's may be a rebate, within the domain's 1 %
# bound); a funding payment is any amount of either sign.
fees = st.decimals(min_value=Decimal("-0.01"), max_value=Decimal("0.01"), places=6)
step = st.tuples(st.sampled_from([Side.BUY, Side.SELL]), qtys, prices, fees, st.booleans())


def _fills(steps: list[tuple[Side, Decimal, Decimal, Decimal, bool]], close: bool) -> list[Fill]:
    fills: list[Fill] = []
    open_qty = ZERO
    for i, (side, qty, price, fee, funding) in enumerate(steps):
        kind = ExecType.FUNDING if funding and open_qty else ExecType.TRADE
        amount = fee * 50 if kind is ExecType.FUNDING else fee * price * qty
        fills.append(make_fill(side, qty, price, amount, seconds=i, exec_type=kind,
                               is_maker=amount < 0))
        if kind is ExecType.TRADE:
            open_qty += qty * side.sign
    if close and open_qty:
        side = Side.SELL if open_qty > 0 else Side.BUY
        fills.append(make_fill(side, abs(open_qty), "123.45", "0.0007", seconds=len(steps)))
    return fills


def _fold(fills: list[Fill]) -> tuple[Position, FifoMatcher, Decimal]:
    position = Position("shortseller_001", "BTCUSDT")
    matcher = FifoMatcher("shortseller_001", "BTCUSDT")
    net = ZERO
    for fill in fills:
        position = position.apply(fill)
        net += sum((trip.net_pnl for trip in matcher.add(fill)), ZERO)
    return position, matcher, net


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_closed_position_pnl_is_sells_minus_buys_minus_fees(steps: list) -> None:  # type: ignore[type-arg]
    fills = _fills(steps, close=True)
    position, _, _ = _fold(fills)
    assert position.is_flat
    trades = [f for f in fills if f.moves_position]
    sells = sum((f.notional for f in trades if f.side is Side.SELL), ZERO)
    buys = sum((f.notional for f in trades if f.side is Side.BUY), ZERO)
    paid = sum((f.fee for f in fills), ZERO)
    assert position.realized_pnl == sells - buys - paid


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=25), st.booleans())
def test_round_trips_sum_to_realized_pnl(steps: list, close: bool) -> None:  # type: ignore[type-arg]
    fills = _fills(steps, close=close)
    position, matcher, net = _fold(fills)
    assert matcher.open_qty == position.qty
    if position.is_flat:
        assert net - matcher.unallocated_funding == position.realized_pnl
    else:
        # Open lots hold entry fees and funding that no round trip has taken yet.
        mark = Decimal("100")
        fifo_unrealized = sum(
            (lot.remaining * (mark - lot.fill.price) * lot.fill.side.sign for lot in matcher.lots),
            ZERO,
        )
        total_fifo = net - matcher.open_fees - matcher.open_funding + fifo_unrealized
        total_position = position.realized_pnl + position.unrealized_pnl(mark)
        assert total_fifo == total_position
