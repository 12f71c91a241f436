"""Each order type against the matching engine: fills, prices, fees, statuses and refusals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.config import Slippage
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.records import Outcome
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.adapters.sim.requests import AmendRequest, SimOrderRequest, TriggerDirection
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import CancelRequest, OrderRequest

from .kit import MIN5, SYM, T0, bar, order

D = Decimal


def test_market_buy_fills_at_last_price_with_taker_fee(engine: MatchingEngine) -> None:
    out = engine.place("A", order(Side.BUY, "0.1", "m1"), T0 + 1)
    assert out.order is not None and out.order.status is OrderStatus.FILLED
    [fill] = out.fills
    assert (fill.price, fill.qty, fill.fee, fill.is_maker) == (D(50000), D("0.1"), D("2.75"), False)
    assert fill.bot_id == "bot1" and fill.order_link_id == "m1" and fill.closed_size == 0
    assert engine.wallet("A").wallet_balance == D("9997.25")
    assert engine.position("A", SYM).size == D("0.1")


@pytest.mark.parametrize(
    ("slippage", "buy", "sell"),
    [
        (Slippage(ticks=2), D("50001"), D("49999")),
        (Slippage(bps=D(10)), D("50050"), D("49950")),
    ],
)
def test_market_slippage_moves_the_price_against_the_taker(
    make_engine: Callable[..., MatchingEngine], slippage: Slippage, buy: D, sell: D
) -> None:
    engine = make_engine(slippage=slippage)
    assert engine.place("A", order(Side.BUY, "0.1", "b"), T0).fills[0].price == buy
    assert engine.place("A", order(Side.SELL, "0.1", "s"), T0).fills[0].price == sell


def test_configured_fee_rates_apply(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(taker_fee=D("0.001"), maker_fee=D("-0.0001"))
    assert engine.place("A", order(Side.BUY, "0.1", "t"), T0).fills[0].fee == D("5")
    limit = order(Side.SELL, "0.1", "l", order_type=OrderType.LIMIT, price=D(50500))
    engine.place("A", limit, T0)
    [fill] = [e for e in bar(engine, 0, 50000, 50600, 49900, 50100) if hasattr(e, "exec_id")]
    assert fill.fee == D("-0.505") and fill.is_maker


def test_resting_limit_fills_fully_as_maker_at_its_price_when_touched(
    engine: MatchingEngine,
) -> None:
    out = engine.place(
        "A", order(Side.BUY, "0.1", "l1", order_type=OrderType.LIMIT, price=D(49500)), T0
    )
    assert out.order is not None and out.order.status is OrderStatus.NEW and not out.fills
    assert bar(engine, 0, 50000, 50100, 49600, 49800) == []  # not reached
    events = bar(engine, 1, 49800, 49900, 49500, 49700)  # touches exactly
    fills = [e for e in events if not isinstance(e, OrderUpdated)]
    assert len(fills) == 1
    fill = fills[0]
    assert (fill.price, fill.qty, fill.is_maker, fill.fee) == (D(49500), D("0.1"), True, D("0.99"))
    assert fill.exec_time.timestamp() * 1000 > T0 + MIN5
    assert engine.order("A", order_link_id="l1").order.status is OrderStatus.FILLED
    assert engine.open_orders("A") == []


def test_limit_fills_at_the_open_when_the_bar_gaps_through_it(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "l1", order_type=OrderType.LIMIT, price=D(49500)), T0)
    [fill] = [
        e for e in bar(engine, 0, 49000, 49200, 48800, 49100) if not isinstance(e, OrderUpdated)
    ]
    assert fill.price == D(49000)


def test_crossing_limit_fills_at_once_as_taker_at_the_better_last_price(
    engine: MatchingEngine,
) -> None:
    out = engine.place(
        "A", order(Side.BUY, "0.1", "x", order_type=OrderType.LIMIT, price=D(50500)), T0
    )
    [fill] = out.fills
    assert (fill.price, fill.is_maker) == (D(50000), False)


def test_post_only_that_would_cross_is_cancelled_like_bybit(engine: MatchingEngine) -> None:
    req = order(
        Side.BUY,
        "0.1",
        "po",
        order_type=OrderType.LIMIT,
        price=D(50000),
        time_in_force=TimeInForce.POST_ONLY,
    )
    out = engine.place("A", req, T0)
    assert out.order is not None and out.order.status is OrderStatus.CANCELLED
    assert out.order.reject_reason == "EC_PostOnlyWillTakeLiquidity"
    assert out.fills == [] and engine.position("A", SYM).size == 0
    ok = order(
        Side.BUY,
        "0.1",
        "po2",
        order_type=OrderType.LIMIT,
        price=D(49000),
        time_in_force=TimeInForce.POST_ONLY,
    )
    placed = engine.place("A", ok, T0).order
    assert placed is not None and placed.status is OrderStatus.NEW


def test_ioc_limit_that_cannot_fill_is_cancelled(engine: MatchingEngine) -> None:
    req = order(
        Side.BUY,
        "0.1",
        "ioc",
        order_type=OrderType.LIMIT,
        price=D(49000),
        time_in_force=TimeInForce.IOC,
    )
    placed = engine.place("A", req, T0).order
    assert placed is not None and placed.status is OrderStatus.CANCELLED


def test_reduce_only_refused_when_it_would_increase(engine: MatchingEngine) -> None:
    with pytest.raises(OrderRejected) as err:
        engine.place("A", order(Side.SELL, "0.1", "r1", reduce_only=True), T0)
    assert err.value.code is RejectCode.REDUCE_ONLY_INCREASE and err.value.field == "reduce_only"
    engine.place("A", order(Side.BUY, "0.1", "r2"), T0)
    with pytest.raises(OrderRejected):
        engine.place("A", order(Side.BUY, "0.1", "r3", reduce_only=True), T0)


def test_reduce_only_larger_than_the_position_is_cut_to_it(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "o"), T0)
    out = engine.place("A", order(Side.SELL, "0.3", "c", reduce_only=True), T0 + 1)
    assert out.fills[0].qty == D("0.1") and out.fills[0].closed_size == D("0.1")
    assert out.order is not None and out.order.status is OrderStatus.PARTIALLY_FILLED_CANCELED
    assert engine.position("A", SYM).size == 0


def test_stop_market_triggers_inside_the_bar_at_its_trigger(engine: MatchingEngine) -> None:
    out = engine.place("A", order(Side.SELL, "0.1", "st", trigger_price=D(49000)), T0)
    assert out.order is not None and out.order.status is OrderStatus.UNTRIGGERED
    assert engine.order("A", order_link_id="st").trigger_direction == TriggerDirection.FALLING
    assert bar(engine, 0, 50000, 50200, 49100, 49500) == []
    events = bar(engine, 1, 49500, 49800, 48500, 49200)
    statuses = [e.order.status for e in events if isinstance(e, OrderUpdated)]
    assert statuses == [OrderStatus.TRIGGERED, OrderStatus.FILLED]
    [fill] = [e for e in events if not isinstance(e, OrderUpdated)]
    assert (fill.price, fill.side, fill.is_maker) == (D(49000), Side.SELL, False)
    assert engine.position("A", SYM).signed_size == D("-0.1")


def test_stop_market_on_a_gap_fills_at_the_worse_open(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.SELL, "0.1", "st", trigger_price=D(49000)), T0)
    [fill] = [
        e for e in bar(engine, 0, 48000, 48500, 47900, 48200) if not isinstance(e, OrderUpdated)
    ]
    assert fill.price == D(48000)


def test_buy_stop_limit_rests_as_a_limit_when_triggered_above_its_price(
    engine: MatchingEngine,
) -> None:
    req = order(
        Side.BUY, "0.1", "sl", order_type=OrderType.LIMIT, price=D(50500), trigger_price=D(51000)
    )
    engine.place("A", req, T0)
    bar(engine, 0, 50000, 51200, 49900, 51100)  # triggers at 51000, limit 50500 below: rests
    view = engine.order("A", order_link_id="sl")
    assert view.order.status is OrderStatus.NEW
    [fill] = [
        e for e in bar(engine, 1, 51100, 51200, 50400, 50600) if not isinstance(e, OrderUpdated)
    ]
    assert (fill.price, fill.is_maker) == (D(50500), True)


def test_explicit_trigger_direction_already_crossed_is_refused(engine: MatchingEngine) -> None:
    req = SimOrderRequest(
        SYM, Side.BUY, D("0.1"), trigger_price=D(49000), trigger_direction=TriggerDirection.RISING
    )
    with pytest.raises(OrderRejected) as err:
        engine.place("A", req, T0)
    assert err.value.code is RejectCode.TRIGGER_RISING_BELOW


def test_cancel_and_cancel_twice(engine: MatchingEngine) -> None:
    placed = engine.place(
        "A", order(Side.BUY, "0.1", "c1", order_type=OrderType.LIMIT, price=D(49000)), T0
    )
    assert placed.order is not None
    out = engine.cancel("A", CancelRequest("bot1", SYM, order_id=placed.order.order_id), T0 + 1)
    assert out.order is not None and out.order.status is OrderStatus.CANCELLED
    assert bar(engine, 0, 50000, 50000, 48000, 49000) == []  # a cancelled order never fills
    with pytest.raises(OrderRejected) as err:
        engine.cancel("A", CancelRequest("bot1", SYM, order_link_id="c1"), T0 + 2)
    assert err.value.code is RejectCode.ORDER_NOT_EXISTS


def test_cancelled_conditional_is_deactivated_and_cancel_all_clears_everything(
    engine: MatchingEngine,
) -> None:
    engine.place("A", order(Side.SELL, "0.1", "a", trigger_price=D(49000)), T0)
    engine.place("A", order(Side.BUY, "0.1", "b", order_type=OrderType.LIMIT, price=D(48000)), T0)
    out = engine.cancel_all("A", T0 + 1)
    statuses = sorted(e.order.status for e in out.events if isinstance(e, OrderUpdated))
    assert statuses == sorted([OrderStatus.DEACTIVATED, OrderStatus.CANCELLED])
    assert engine.open_orders("A") == []


def test_amend_moves_a_limit_and_a_crossing_amend_fills(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "am", order_type=OrderType.LIMIT, price=D(49000)), T0)
    out = engine.amend("A", AmendRequest(SYM, order_link_id="am", price=D(49500)), T0 + 1)
    assert (
        out.order is not None
        and out.order.price == D(49500)
        and out.order.status is OrderStatus.NEW
    )
    out = engine.amend(
        "A", AmendRequest(SYM, order_link_id="am", qty=D("0.2"), price=D(50500)), T0 + 2
    )
    assert out.fills[0].price == D(50000) and out.fills[0].qty == D("0.2")
    with pytest.raises(OrderRejected) as err:
        engine.amend("A", AmendRequest(SYM, order_link_id="am", price=D(49000)), T0 + 3)
    assert err.value.code is RejectCode.ORDER_NOT_EXISTS


def test_order_ids_and_exec_ids_are_unique(engine: MatchingEngine) -> None:
    outs: list[Outcome] = []
    for i in range(20):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        outs.append(engine.place("A", order(side, "0.01", f"u{i}"), T0 + i))
    order_ids = {o.order.order_id for o in outs if o.order is not None}
    exec_ids = {f.exec_id for o in outs for f in o.fills}
    assert len(order_ids) == 20 and len(exec_ids) == 20
    assert all(len(i) == 36 and i.count("-") == 4 for i in order_ids)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"qty": "0.0015"}, RejectCode.PARAMS_ERROR, "qty"),
        ({"qty": "0.0001"}, RejectCode.PARAMS_ERROR, "qty"),
        ({"qty": "150"}, RejectCode.PARAMS_ERROR, "qty"),
        ({"price": D("49000.3")}, RejectCode.PARAMS_ERROR, "price"),
        ({"price": D(1000), "qty": "0.001"}, RejectCode.MIN_NOTIONAL, "qty"),
        ({"qty": "2"}, RejectCode.INSUFFICIENT_BALANCE, "qty"),
        ({"take_profit": D(49000)}, RejectCode.PARAMS_ERROR, "take_profit"),
        ({"stop_loss": D(51000)}, RejectCode.PARAMS_ERROR, "stop_loss"),
    ],
)
def test_bad_orders_are_refused_naming_field_and_value(
    engine: MatchingEngine, kwargs: dict[str, object], code: RejectCode, field: str
) -> None:
    qty = str(kwargs.pop("qty", "0.1"))
    if "price" in kwargs:
        kwargs["order_type"] = OrderType.LIMIT
    with pytest.raises(OrderRejected) as err:
        engine.place("A", order(Side.BUY, qty, "bad", **kwargs), T0)
    assert err.value.code is code and err.value.field == field
    assert field in str(err.value)
    assert engine.open_orders("A") == [] and engine.position("A", SYM).size == 0
    assert engine.wallet("A").wallet_balance == D(10000)


def test_margin_uses_leverage(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "1.9", "ok"), T0)  # 95,000 notional at 10x on 10,000
    with pytest.raises(OrderRejected):
        engine.place("A", order(Side.BUY, "0.1", "more"), T0)
    engine.place("A", order(Side.SELL, "1.9", "close", reduce_only=True), T0)
    engine.set_leverage("A", SYM, D(2))
    with pytest.raises(OrderRejected) as err:
        engine.place("A", order(Side.BUY, "0.4", "lev2"), T0)  # 20,000 at 2x needs 10,000 + fee
    assert err.value.code is RejectCode.INSUFFICIENT_BALANCE


def test_other_refusals(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "dup"), T0)
    cases: list[tuple[Callable[[], object], RejectCode]] = [
        (
            lambda: engine.place("A", order(Side.BUY, "0.1", "dup"), T0),
            RejectCode.DUPLICATE_LINK_ID,
        ),
        (lambda: engine.place("B", order(Side.BUY, "0.1", "x"), T0), RejectCode.PARAMS_ERROR),
        (
            lambda: engine.place("A", OrderRequest("b", "DOGEUSDT", Side.BUY, D(1), "x"), T0),
            RejectCode.PARAMS_ERROR,
        ),
        (lambda: engine.set_leverage("A", SYM, D(10)), RejectCode.LEVERAGE_NOT_MODIFIED),
        (lambda: engine.set_leverage("A", SYM, D(0)), RejectCode.PARAMS_ERROR),
        (lambda: engine.executions("A", cursor="nonsense"), RejectCode.PARAMS_ERROR),
        (lambda: engine.executions("A", limit=0), RejectCode.PARAMS_ERROR),
        (lambda: engine.order("A", order_id="nope"), RejectCode.ORDER_NOT_EXISTS),
    ]
    for call, code in cases:
        with pytest.raises(OrderRejected) as err:
            call()
        assert err.value.code is code, (code, err.value)


def test_market_order_without_a_price_is_refused(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine(price=None)
    with pytest.raises(OrderRejected, match="no market price"):
        engine.place("A", order(Side.BUY, "0.1", "m"), T0)


def test_bot_resolver_names_the_bot(instruments: dict[str, Instrument]) -> None:
    engine = MatchingEngine(
        "bybit-sim",
        instruments.values(),
        bot_resolver=lambda account, link: link.split("-")[0] or "manual",
    )
    engine.open_account("A", D(1000))
    engine.on_price(SYM, D(50000), T0)
    fill = engine.place(
        "A", SimOrderRequest(SYM, Side.BUY, D("0.01"), order_link_id="mom-1"), T0
    ).fills[0]
    assert fill.bot_id == "mom" and fill.venue == "bybit-sim"
