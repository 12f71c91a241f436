"""A late fill folded in from the kept tail gives exactly the position a full refold gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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
)


def _fills(rows: list[tuple[str, int, int, int, int]]) -> list[Fill]:
    return [
        make_fill(side, str(qty), str(price), "0.01", seconds=sec, exec_id=f"e{tag:07d}-{i}")
        for i, (side, qty, price, sec, tag) in enumerate(rows)
    ]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(_FILL, min_size=1, max_size=40), cut=st.integers(1, 8), limit=st.integers(1, 12)
)
def test_arrival_order_does_not_change_the_position(
    rows: list[tuple[str, int, int, int, int]], cut: int, limit: int
) -> None:
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
    fills = _fills([("Buy", 1, 100, s, s) for s in range(10)])
    tail = FoldTail.of_history("shortseller_001", "BTCUSDT", fills[2:], limit=3)
    assert not tail.covers(fold_key(fills[0]))  # before everything kept or dropped
    assert not tail.covers(fold_key(fills[5]))  # dropped from the tail
    late = make_fill("Sell", "1", "105", seconds=8.5, exec_id="late")
    assert tail.covers(fold_key(late))
    assert tail.fold_in([late]).position == fold("shortseller_001", "BTCUSDT", [*fills[2:], late])
