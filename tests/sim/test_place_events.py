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
from alphadesk.domain.errors import InvalidField
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


def _odd_requests() -> list[OrderRequest]:
    """Domain requests the engine may not take as they are (SimOrderRequest.takes_as_is says
    no): it copies them through the checking constructor, which converts or refuses."""
    long_symbol, long_bot = "B" * 21, "b" * 51
    return [
        OrderRequest("bot1", SYM, "Buy", D("0.01"), "s1"),  # type: ignore[arg-type]
        OrderRequest("bot1", SYM, "BUY", D("0.01"), "s2"),  # type: ignore[arg-type]
        OrderRequest("bot1", SYM, Side.BUY, D("0.01"), "t1", order_type="Market"),  # type: ignore[arg-type]
        OrderRequest("bot1", SYM, Side.BUY, D("0.01"), "f1", time_in_force="GTC"),  # type: ignore[arg-type]
        OrderRequest("bot1", long_symbol, Side.BUY, D("0.01"), "y1"),
        OrderRequest(long_bot, SYM, Side.BUY, D("0.01"), "b1"),
        OrderRequest("bot1", SYM, Side.BUY, D("0.01"), "ok"),
    ]


@pytest.mark.parametrize("account", ["A", "nobody"])
def test_a_domain_request_is_taken_as_is_only_when_the_copy_would_equal_it(
    make_engine: Callable[..., MatchingEngine], account: str
) -> None:
    """place_events checks a domain request's fields itself (what SimOrderRequest.takes_as_is
    checks): every request gives what its checked copy gives, refusals and their order included
    (a request refused by the copy is refused so before an unknown account is)."""
    as_is, copied = make_engine(), make_engine()
    for n, request in enumerate(_odd_requests()):

        def run(engine: MatchingEngine, req: Any, ts: int = T0 + n) -> Any:
            try:
                known, sim_order, out = engine.place_events(account, req, ts)
            except InvalidField as exc:
                return ("refused", type(exc), exc.field, str(exc))
            except TypeError as exc:  # the compiled build's refusal of a wrong type, as before
                return ("refused", TypeError, str(exc))
            return known or sim_order.snapshot(), out

        def copy(req: OrderRequest) -> Any:
            try:
                return SimOrderRequest.from_request(req)
            except InvalidField as exc:
                return exc

        checked = copy(request)
        want = checked if isinstance(checked, InvalidField) else run(copied, checked)
        if isinstance(want, InvalidField):
            want = ("refused", type(want), want.field, str(want))
        assert run(as_is, request) == want, request
    assert as_is.positions("A") == copied.positions("A")
    assert as_is.order_history("A") == copied.order_history("A")
