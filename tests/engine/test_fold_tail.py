"""A late fill folded in from the kept tail gives exactly the position a full refold gives, in the
domain's fold order (time, funding before trades, the venue's seq, then ids)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphadesk.domain.enums import ExecType
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import fold
from alphadesk.engine.fold_tail import FoldTail, fold_key
from alphadesk.testing.builders import make_fill

_FILL = st.tuples(
    st.sampled_from(["Buy", "Sell"]),
    st.integers(1, 5),
    st.integers(90, 110),
    st.integers(0, 20),  # seconds: many fills share a timestamp, so exec ids decide the order
    st.integers(0, 10**6),
    st.none() | st.integers(0, 60),  # the venue's seq, or none (a row from before it was kept)
    st.booleans(),  # a funding settlement rather than a trade
)
Row = tuple[str, int, int, int, int, int | None, bool]


def _fills(rows: list[Row]) -> list[Fill]:
    return [
        make_fill(
            side, str(qty), str(price), "0.01", seconds=sec, exec_id=f"e{tag:07d}-{i}", seq=seq,
            exec_type=ExecType.FUNDING if funding else ExecType.TRADE,
        )
        for i, (side, qty, price, sec, tag, seq, funding) in enumerate(rows)
    ]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(_FILL, min_size=1, max_size=40), cut=st.integers(1, 8), limit=st.integers(1, 12)
)
def test_arrival_order_does_not_change_the_position(rows: list[Row], cut: int, limit: int) -> None:
    """Fills arrive in random batches, in random order; whenever the tail covers a batch its
    refold equals folding everything so far from flat, and when it does not, the caller's
    fallback (a whole-history rebuild) restores a tail that does."""
    fills = _fills(rows)
    seen: list[Fill] = []
    tail = FoldTail.of_history("shortseller_001", "BTCUSDT", [], limit=limit)
    for start in range(0, len(fills), cut):
        batch = fills[start : start + cut]
        seen.extend(batch)
        if tail.covers(min(map(fold_key, batch))):
            out = tail.fold_in(batch)
            assert out.last == max(map(fold_key, seen))
        else:
            tail = FoldTail.of_history("shortseller_001", "BTCUSDT", seen, limit=limit)
        assert tail.position == fold("shortseller_001", "BTCUSDT", seen)


def test_a_fill_older_than_the_tail_is_refused() -> None:
    fills = _fills([("Buy", 1, 100, s, s, None, False) for s in range(10)])
    tail = FoldTail.of_history("shortseller_001", "BTCUSDT", fills[2:], limit=3)
    assert not tail.covers(fold_key(fills[0]))  # before everything kept or dropped
    assert not tail.covers(fold_key(fills[5]))  # dropped from the tail
    late = make_fill("Sell", "1", "105", seconds=8.5, exec_id="late")
    assert tail.covers(fold_key(late))
    assert tail.fold_in([late]).position == fold("shortseller_001", "BTCUSDT", [*fills[2:], late])


def test_a_late_fill_of_the_same_millisecond_goes_in_its_seq_place() -> None:
    """Fills of one instant arrive out of the venue's order: the late one (smaller seq, larger
    exec id) is folded before the kept ones, as the venue matched them, not after them."""
    buy = make_fill("Buy", "0.5", "95900.1", exec_id="ffff-buy", seq=11)
    flip = make_fill("Sell", "0.8", "95901.5", exec_id="0000-flip", seq=12)
    tail = FoldTail.of_history("shortseller_001", "BTCUSDT", [flip], limit=4)
    assert tail.covers(fold_key(buy))
    out = tail.fold_in([buy])
    assert out.newest == flip and out.last == fold_key(flip)
    assert out.position.qty == Decimal("-0.3")
    assert out.position.avg_entry_price == flip.price
