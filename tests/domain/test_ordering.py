"""One fold order for fills of one instant: funding before trades, then the venue's seq, then ids.

Bybit's exec ids are random, so ordering a millisecond by them put a funding settlement after the
exit of the same millisecond about half the time, and that funding then belonged to no round trip.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import fold_key, in_fold_order
from alphadesk.domain.positions import fold
from alphadesk.domain.roundtrips import FifoMatcher, match
from alphadesk.testing.builders import make_fill

ZERO = Decimal(0)
BOT, SYMBOL = "shortseller_001", "BTCUSDT"
TAKER = Decimal("0.00055")


def _old_order(fills: list[Fill]) -> list[Fill]:
    """The order used before: time, then the (random) exec id."""
    return sorted(fills, key=lambda f: (f.exec_time, f.exec_id))


def test_funding_at_an_exits_millisecond_goes_to_the_round_trip() -> None:
    entry = make_fill("Sell", "0.5", "95900.1", "26.37", exec_id="1b6c", seq=101)
    # 8 hours later to the millisecond: the funding sorts after the exit by exec id
    funding = make_fill("Sell", "0.5", "95000", "-4.75", seconds=28_800, exec_id="f3a0",
                        exec_type=ExecType.FUNDING, seq=140)  # fmt: skip
    exit_ = make_fill("Buy", "0.5", "94000", "25.85", seconds=28_800, exec_id="09d2", seq=139)
    fills = [exit_, funding, entry]
    assert in_fold_order(fills) == [entry, funding, exit_]
    (trip,) = match(BOT, SYMBOL, fills)
    assert trip.funding == Decimal("-4.75")
    # what the old order did: the exit closed the lot first and the funding found nothing open
    matcher = FifoMatcher(BOT, SYMBOL)
    old_trips = [t for f in _old_order(fills) for t in matcher.add(f)]
    assert sum((t.funding for t in old_trips), ZERO) == ZERO
    assert matcher.unallocated_funding == Decimal("-4.75")


def test_rank_places_every_cash_kind_before_every_position_kind() -> None:
    cash = [ExecType.FUNDING, ExecType.SETTLE]
    moves = [k for k in ExecType if k not in cash]
    assert moves and all(k.moves_position for k in moves)
    rows = [
        make_fill(exec_id=f"{i:x}", exec_type=kind, seq=100 - i)
        for i, kind in enumerate([*moves, *cash])
    ]
    ordered = in_fold_order(rows)
    assert {f.exec_type for f in ordered[:2]} == set(cash)
    # between position changes (trades, ADL, bust, delivery ...) only the venue's seq decides
    assert [f.seq for f in ordered[2:]] == sorted(f.seq for f in ordered[2:] if f.seq is not None)


def test_time_then_seq_then_unsequenced_then_ids() -> None:
    later_small_seq = make_fill(seconds=0.001, exec_id="a", seq=1)
    seq_5 = make_fill(exec_id="zz", seq=5)
    seq_9 = make_fill(exec_id="aa", seq=9)
    no_seq_b = make_fill(exec_id="b")
    no_seq_c = make_fill(exec_id="c")
    same_id_other_account = make_fill(exec_id="c", account="trend")  # "trend" > "shortseller"
    fills = [no_seq_c, later_small_seq, same_id_other_account, seq_9, no_seq_b, seq_5]
    assert in_fold_order(fills) == [
        seq_5, seq_9, no_seq_b, no_seq_c, same_id_other_account, later_small_seq,
    ]  # fmt: skip
    assert len({fold_key(f) for f in fills}) == len(fills)  # total: distinct fills, distinct keys
    assert fold_key(seq_5)[1:5] == (1, False, 5, "zz") and fold_key(no_seq_b)[2] is True


@pytest.mark.parametrize("bad", [-1, 2**63, True, 1.0, "7"])
def test_seq_must_be_a_non_negative_int(bad: object) -> None:
    with pytest.raises(InvalidField) as err:
        make_fill(seq=bad)
    assert err.value.field == "fill.seq"


_step = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("3"), places=3),
    st.decimals(min_value=Decimal("90000"), max_value=Decimal("110000"), places=1),
    st.booleans(),  # funding falls due at this trade's millisecond (if a position is held)
    st.decimals(min_value=Decimal("-9"), max_value=Decimal("9"), places=8),  # its amount
    st.sampled_from(["before", "after", "none"]),  # the funding's seq against the trade's
    st.booleans(),  # the trade exits the whole position (instead of trading ``qty``)
)
Step = tuple[Side, Decimal, Decimal, bool, Decimal, str, bool]


def _venue_history(steps: list[Step], ids: list[UUID]) -> list[Fill]:
    """What the venue did, in its order: at each step's millisecond, funding on the position
    held up to it (if due), then the trade; a last step closes what is left."""
    fills: list[Fill] = []
    held = ZERO
    seq = 1000
    last: Step = (Side.BUY, Decimal(1), Decimal(100000), True, Decimal("1.5"), "after", True)
    for i, (side, qty, price, due, amount, seq_place, exits) in enumerate([*steps, last]):
        seq += 2
        if due and held and amount:
            funding_seq = {"before": seq - 1, "after": seq + 1, "none": None}[seq_place]
            fills.append(make_fill(
                Side.BUY if held > 0 else Side.SELL, abs(held), price, amount, seconds=i * 3600,
                exec_id=str(ids[2 * i]), exec_type=ExecType.FUNDING, seq=funding_seq,
            ))  # fmt: skip
        if exits and held:
            side, qty = (Side.SELL if held > 0 else Side.BUY), abs(held)
        elif exits:
            continue
        fills.append(make_fill(side, qty, price, qty * price * TAKER, seconds=i * 3600,
                               exec_id=str(ids[2 * i + 1]), seq=seq))  # fmt: skip
        held += qty * side.sign
    return fills


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(_step, min_size=1, max_size=20),
    ids=st.lists(st.uuids(), min_size=42, max_size=42, unique=True),
    data=st.data(),
)
def test_round_trip_funding_always_sums_to_the_total(
    steps: list[Step],
    ids: list[UUID],
    data: st.DataObject,
) -> None:
    """Any history whose funding falls due at the very millisecond of an exit (or any trade),
    with random exec ids and in any arrival order: the round trips' funding is all the funding
    paid, and their net PnL is the flat position's realized PnL."""
    venue_order = _venue_history(steps, ids)
    arrived = data.draw(st.permutations(venue_order))
    assert in_fold_order(arrived) == venue_order
    trips = match(BOT, SYMBOL, arrived)
    total_funding = sum((f.fee for f in venue_order if not f.moves_position), ZERO)
    assert sum((t.funding for t in trips), ZERO) == total_funding
    position = fold(BOT, SYMBOL, arrived)
    assert position.is_flat and position.funding == total_funding
    assert sum((t.net_pnl for t in trips), ZERO) == position.realized_pnl
