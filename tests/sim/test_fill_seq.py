"""The matching engine numbers its fills as Bybit does (``seq``, the execution history's own
number), so the fold order of its fills is the order it made them, funding of an exit's instant
included."""

from __future__ import annotations

from decimal import Decimal

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.roundtrips import match

from .kit import HOUR, MIN5, SYM, T0, fills, order

D = Decimal


def test_fills_carry_the_executions_seq_and_fold_in_the_order_made(
    engine: MatchingEngine,
) -> None:
    made = engine.place("A", order(Side.BUY, "0.1", "entry"), T0 + 1).fills
    for t in range(T0 + MIN5, T0 + 8 * HOUR + MIN5, MIN5):  # funding falls due at 08:00
        made += fills(engine.on_bar(SYM, 50000.0, 50000.0, 50000.0, 50000.0, t, t + MIN5))
    made += engine.place("A", order(Side.SELL, "0.1", "exit"), T0 + 8 * HOUR).fills
    _, funding, exit_ = made
    assert funding.exec_type is ExecType.FUNDING
    assert to_epoch_ms(funding.exec_time) == to_epoch_ms(exit_.exec_time) == T0 + 8 * HOUR
    seqs = [f.seq or 0 for f in made]
    assert None not in {f.seq for f in made} and seqs == sorted(seqs) and len(set(seqs)) == 3
    for fill in made:
        assert engine.execution("A", fill.exec_id).seq == fill.seq
    assert in_fold_order(reversed(made)) == made
    (trip,) = match("bot1", SYM, list(reversed(made)))
    assert trip.funding == funding.fee == D("0.5")
