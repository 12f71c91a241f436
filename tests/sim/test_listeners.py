"""What a listener may switch off or hand to the venue: the Filled status update of an order its
fills already account for, and the label a trade's fill carries. Either way the outcome and the
fills must be the ones the default venue gives, field by field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.enums import OrderStatus, OrderType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill

from .kit import SYM, T0, bar, fills, order

D = Decimal


def _trades(engine: MatchingEngine) -> list[object]:
    """A market entry, a resting take-profit limit that a bar fills, a second entry whose
    resting reduce-only limit outlives the position (closed by a market exit) and is cancelled
    when touched: every event and outcome in order."""
    seen: list[object] = []

    def place(side: Side, link: str, ts: int, **kw: object) -> None:
        out = engine.place("A", order(side, "0.1", link, **kw), ts)
        seen.extend([out.order, out.events])

    place(Side.BUY, "e1", T0 + 1)
    place(Side.SELL, "tp", T0 + 2, order_type=OrderType.LIMIT, price=D(50500), reduce_only=True)
    seen.append(tuple(bar(engine, 1, 50000, 50600, 49900, 50100)))
    place(Side.BUY, "e2", T0 + 900_000)
    place(Side.SELL, "r2", T0 + 900_001, order_type=OrderType.LIMIT, price=D(50300),
          reduce_only=True)  # fmt: skip
    place(Side.SELL, "x2", T0 + 900_002, reduce_only=True)
    seen.append(tuple(bar(engine, 4, 50100, 50400, 50000, 50200)))
    return seen


def test_without_filled_updates_only_those_are_missing(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    quiet = make_engine()
    quiet.report_filled(False)
    loud, hushed = _trades(make_engine()), _trades(quiet)

    def kept(events: object) -> object:
        if not isinstance(events, tuple):
            return events
        return tuple(
            e for e in events
            if not (isinstance(e, OrderUpdated) and e.order.status is OrderStatus.FILLED)
        )  # fmt: skip

    assert [kept(x) for x in loud] == hushed
    filled_updates = [
        e for x in loud if isinstance(x, tuple) for e in x
        if isinstance(e, OrderUpdated) and e.order.status is OrderStatus.FILLED
    ]  # fmt: skip
    assert len(filled_updates) == 4  # entries, take-profit, exit: something was left out
    others = [
        e.order.status for x in hushed if isinstance(x, tuple) for e in x
        if isinstance(e, OrderUpdated)
    ]  # fmt: skip
    assert OrderStatus.CANCELLED in others and OrderStatus.NEW in others  # still reported


def test_outcome_order_of_a_filled_order_is_its_final_snapshot(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    quiet = make_engine()
    quiet.report_filled(False)
    out = quiet.place("A", order(Side.BUY, "0.1", "m1"), T0 + 5)
    assert not [e for e in out.events if isinstance(e, OrderUpdated)]
    assert out.order is not None and out.order is out.order  # made once
    assert out.order == quiet.order("A", order_link_id="m1").order
    assert out.order.status is OrderStatus.FILLED and out.order.filled_qty == D("0.1")


def test_labelled_trades_carry_the_label_and_venue_reasons_win(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine()
    asked: list[str] = []

    def label(link: str) -> str:
        asked.append(link)
        return f"why_{link}"

    engine.label_fills(label)
    [entry] = fills(engine.place("A", order(Side.BUY, "0.1", "e1"), T0 + 1).events)
    assert entry.close_reason == "why_e1" and asked == ["e1"]
    engine.set_trading_stop("A", _stop(D(49000)), T0 + 2)
    [stopped] = fills(bar(engine, 1, 50000, 50100, 48000, 48500))
    assert stopped.close_reason == "StopLoss" and asked == ["e1"]  # the venue's own reason
    engine.label_fills(None)
    [plain] = fills(engine.place("A", order(Side.BUY, "0.1", "e2"), T0 + 900_000).events)
    assert plain.close_reason == ""


def test_a_bad_label_is_refused_naming_the_field(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine()
    engine.label_fills(lambda link: "x" * 51)
    with pytest.raises(InvalidField, match="fill.close_reason"):
        engine.place("A", order(Side.BUY, "0.1", "e1"), T0 + 1)


def _stop(price: Decimal) -> object:
    from alphadesk.domain.requests import TradingStopRequest

    return TradingStopRequest("bot1", SYM, stop_loss=price)


def test_fill_type_is_the_domain_fill(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine()
    engine.label_fills(lambda link: "entry")
    [fill] = fills(engine.place("A", order(Side.BUY, "0.1", "e1"), T0 + 1).events)
    assert type(fill) is Fill
