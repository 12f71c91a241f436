"""Funding settles at 00:00, 08:00 and 16:00 UTC: longs pay a positive rate, shorts receive it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, Side

from .kit import HOUR, MIN5, SYM, T0, fills, order

D = Decimal


def run_to(engine: MatchingEngine, start: int, end: int, price: float = 50000.0) -> list[object]:
    events: list[object] = []
    for t in range(start, end, MIN5):
        events.extend(engine.on_bar(SYM, price, price, price, price, t, t + MIN5))
    return events


@pytest.mark.parametrize(
    ("side", "rate", "fee", "wallet_delta"),
    [
        (Side.BUY, D("0.0001"), D("0.5"), D("-0.5")),
        (Side.SELL, D("0.0001"), D("-0.5"), D("0.5")),
        (Side.BUY, D("-0.0002"), D("-1"), D("1")),
    ],
)
def test_funding_sign_and_amount(
    engine: MatchingEngine, side: Side, rate: Decimal, fee: Decimal, wallet_delta: Decimal
) -> None:
    engine.set_funding_rate(SYM, rate)
    engine.place("A", order(side, "0.1", "e"), T0)  # opened at the 00:00 boundary: pays at 08:00
    before = engine.wallet("A").wallet_balance
    assert fills(run_to(engine, T0, T0 + 8 * HOUR)) == []
    [funding] = fills(run_to(engine, T0 + 8 * HOUR, T0 + 8 * HOUR + MIN5))
    assert funding.exec_type is ExecType.FUNDING and funding.side is side
    assert (funding.price, funding.qty, funding.fee) == (D(50000), D("0.1"), fee)
    assert to_epoch_ms(funding.exec_time) == T0 + 8 * HOUR
    assert engine.wallet("A").wallet_balance - before == wallet_delta
    assert engine.position("A", SYM).size == D("0.1")  # funding never moves the position


def test_one_settlement_per_boundary_and_none_when_flat(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0 + HOUR)
    events = run_to(engine, T0 + HOUR, T0 + 24 * HOUR + MIN5)
    times = [to_epoch_ms(f.exec_time) for f in fills(events)]
    assert times == [T0 + 8 * HOUR, T0 + 16 * HOUR, T0 + 24 * HOUR]
    engine.place("A", order(Side.SELL, "0.1", "x", reduce_only=True), T0 + 25 * HOUR)
    assert fills(run_to(engine, T0 + 25 * HOUR, T0 + 33 * HOUR)) == []


def test_funding_on_ticks_and_explicit_settlement(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.SELL, "0.2", "e"), T0 + 1)
    [f1] = fills(engine.on_price(SYM, D(50000), T0 + 8 * HOUR + 5))
    assert f1.fee == D("-1.0") and to_epoch_ms(f1.exec_time) == T0 + 8 * HOUR
    [f2] = fills(engine.settle_funding(T0 + 16 * HOUR))
    assert to_epoch_ms(f2.exec_time) == T0 + 16 * HOUR
    assert engine.executions("A", exec_type=ExecType.FUNDING).items[0].fill == f2
