"""``MatchingEngine.place_events`` (the backtest venue's way in) is ``place`` without its Outcome:
the same events, the same snapshot, the same refusals, and the engines left in the same state."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.adapters.sim.requests import SimOrderRequest, TriggerDirection
from alphadesk.domain.enums import OrderType, Side, TimeInForce
from alphadesk.domain.requests import OrderRequest

from .kit import SYM, T0, order

D = Decimal


def _requests() -> list[OrderRequest | SimOrderRequest]:
    limit, post = OrderType.LIMIT, TimeInForce.POST_ONLY
    return [
        order(Side.BUY, "0.01", "m1"),  # market, fills
        order(Side.BUY, "0.01", "l1", order_type=limit, price=D("49000")),  # rests
        order(Side.BUY, "0.01", "l2", order_type=limit, price=D("51000")),  # crosses: fills
        order(Side.BUY, "0.01", "p1", order_type=limit, price=D("51000"), time_in_force=post),
        order(Side.SELL, "0.01", "s1", trigger_price=D("48000")),  # conditional: untriggered
        order(Side.SELL, "0.03", "r1", reduce_only=True),  # cut to the position
        order(Side.SELL, "0.01", "r2", reduce_only=True),  # no position: refused
        order(Side.BUY, "0.01", "m1"),  # duplicate link id: refused
        order(Side.BUY, "0.0001", "q1"),  # below min qty: refused
        order(Side.BUY, "0.02", "tp", take_profit=D("60000"), stop_loss=D("40000")),
        SimOrderRequest(
            SYM,
            Side.SELL,
            D("0.01"),
            OrderType.MARKET,
            None,
            TimeInForce.GTC,
            False,
            "x1",
            "bot1",
            D("52000"),
            TriggerDirection.RISING,
            None,
            None,
            0,
            True,
        ),
        order(Side.BUY, "0.01", "late"),  # placed with a refused time
    ]


def _both(place: MatchingEngine, events: MatchingEngine, request: Any, ts: Any) -> tuple[Any, Any]:
    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except OrderRejected as exc:
            return ("refused", exc.code, exc.field, str(exc))
        except Exception as exc:  # the same error either way is what counts
            return ("error", type(exc), str(exc))

    outcome = run(lambda: place.place("A", request, ts))
    got = run(lambda: events.place_events("A", request, ts))
    if isinstance(outcome, tuple):
        return outcome, got
    known, sim_order, out = got
    assert isinstance(out, list)
    return (outcome.order, outcome.events), (
        known if known is not None else sim_order.snapshot(),
        tuple(out),
    )


@pytest.mark.parametrize("report_filled", [True, False])
@pytest.mark.parametrize("keep_history", [True, False])
def test_place_events_is_place_without_the_outcome(
    make_engine: Callable[..., MatchingEngine], report_filled: bool, keep_history: bool
) -> None:
    one, two = (make_engine(keep_history=keep_history) for _ in range(2))
    for engine in (one, two):
        engine.report_filled(report_filled)
    for n, request in enumerate(_requests()):
        ts = T0 + 1000 * n if request.order_link_id != "late" else -1
        first, second = _both(one, two, request, ts)
        assert first == second, request.order_link_id
        assert first[0] != "error", first
    assert one.positions("A") == two.positions("A")
    assert one.open_orders("A") == two.open_orders("A")
    assert one.wallet("A") == two.wallet("A")
    assert one.order_history("A") == two.order_history("A")
    assert one.executions("A") == two.executions("A")
