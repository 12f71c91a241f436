"""The engine reads its config's per-order knobs once, at construction (a SimConfig is frozen):
each command still behaves as the config says: fees, margin check, default leverage, history and
snapshots."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.domain.enums import Side
from alphadesk.domain.events import PositionReported, WalletReported
from alphadesk.domain.fills import Fill

from .kit import T0, order

D = Decimal


@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"taker_fee": D("0.001"), "maker_fee": D("0.0001")},
        {"taker_fee": D(0), "check_margin": False},
        {"default_leverage": D(2), "keep_history": False},
        {"emit_snapshots": True, "keep_history": False},
    ],
)
def test_each_command_follows_the_config(
    make_engine: Callable[..., MatchingEngine], knobs: dict[str, object]
) -> None:
    engine = make_engine(balance="2000", **knobs)
    config = engine.config
    assert (
        engine._keep_history,
        engine._emit_snapshots,
        engine._check_margin,
        engine._maker_fee,
        engine._taker_fee,
        engine._default_leverage,
    ) == (
        config.keep_history,
        config.emit_snapshots,
        config.check_margin,
        config.maker_fee,
        config.taker_fee,
        config.default_leverage,
    )
    events = engine.place("A", order(Side.BUY, "0.02", "in"), T0 + 1).events
    (fill,) = (e for e in events if isinstance(e, Fill))
    assert fill.fee == D("50000") * D("0.02") * config.taker_fee
    snapshots = [e for e in events if isinstance(e, PositionReported | WalletReported)]
    assert len(snapshots) == (2 if config.emit_snapshots else 0)
    assert len(engine.executions("A").items) == (1 if config.keep_history else 0)
    # 0.4 BTC at 50,000 needs 20,000 / leverage of margin: refused below leverage 10 with 2,000
    big = order(Side.BUY, "0.4", "big")
    if not config.check_margin or config.default_leverage * 2000 > 20_000 * 1.01:
        engine.place("A", big, T0 + 2)
    else:
        with pytest.raises(OrderRejected, match="margin"):
            engine.place("A", big, T0 + 2)
