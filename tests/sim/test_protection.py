"""Take-profit, stop-loss and trailing stop on the position, walked along the conservative path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.protection import Protection
from alphadesk.adapters.sim.records import CreateType, StopOrderType
from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.requests import TradingStopRequest

from .kit import SYM, T0, bar, fills, order

D = Decimal


def test_tp_and_sl_set_with_the_order_apply_to_the_position(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e", take_profit=D(51000), stop_loss=D(49000)), T0)
    pos = engine.position("A", SYM)
    assert (pos.take_profit, pos.stop_loss) == (D(51000), D(49000))
    [fill] = fills(bar(engine, 0, 50000, 51200, 49900, 51100))
    assert (fill.price, fill.side, fill.close_reason) == (D(51000), Side.SELL, "TakeProfit")
    assert fill.closed_size == D("0.1") and fill.bot_id == "bot1"
    assert engine.position("A", SYM).size == 0
    view = engine.order_history("A")[0]
    assert view.stop_order_type is StopOrderType.TAKE_PROFIT
    assert view.create_type is CreateType.BY_TAKE_PROFIT


@pytest.mark.parametrize(
    ("side", "tp", "sl", "expected_price"),
    [
        (Side.BUY, D(51000), D(49000), D(49000)),  # long walks O→L→H→C: the stop-loss first
        (Side.SELL, D(49000), D(51000), D(51000)),  # short walks O→H→L→C: the stop-loss first
    ],
)
def test_both_tp_and_sl_in_one_bar_the_adverse_one_wins(
    engine: MatchingEngine, side: Side, tp: Decimal, sl: Decimal, expected_price: Decimal
) -> None:
    engine.place("A", order(side, "0.1", "e", take_profit=tp, stop_loss=sl), T0)
    [fill] = fills(bar(engine, 0, 50000, 51500, 48500, 50000))
    assert fill.price == expected_price and fill.close_reason == "StopLoss"


def test_flat_path_depends_on_the_bar_colour(engine: MatchingEngine) -> None:
    # Flat: a buy limit below and a sell stop below both sit under the open; on a green bar the
    # low comes first so both trigger before the high; we check the path by fill times.
    engine.place("A", order(Side.BUY, "0.1", "lim", order_type=OrderType.LIMIT, price=D(49500)), T0)
    engine.place("A", order(Side.SELL, "0.1", "stp", trigger_price=D(50500)), T0)
    green = fills(bar(engine, 0, 50000, 50600, 49400, 50300))  # O→L→H→C
    assert [f.order_link_id for f in green] == ["lim", "stp"]


def test_flat_red_bar_visits_the_high_first(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "lim", order_type=OrderType.LIMIT, price=D(49500)), T0)
    engine.place("A", order(Side.SELL, "0.1", "stp", trigger_price=D(50500)), T0)
    red = fills(bar(engine, 0, 50000, 50600, 49400, 49700))  # O→H→L→C
    assert [f.order_link_id for f in red] == ["stp", "lim"]


def test_sl_gapped_through_fills_at_the_open(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e", stop_loss=D(49000)), T0)
    [fill] = fills(bar(engine, 0, 48000, 48200, 47000, 47500))
    assert fill.price == D(48000)


def test_trading_stop_sets_and_clears(engine: MatchingEngine) -> None:
    with pytest.raises(OrderRejected, match="zero position"):
        engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, take_profit=D(51000)), T0)
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, stop_loss=D(49000)), T0)
    assert engine.position("A", SYM).stop_loss == D(49000)
    with pytest.raises(OrderRejected) as err:
        engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, take_profit=D(49500)), T0)
    assert err.value.field == "take_profit"
    engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, stop_loss=D(0)), T0)
    assert engine.position("A", SYM).stop_loss == 0
    assert fills(bar(engine, 0, 50000, 50100, 48000, 48500)) == []  # cleared: nothing fires


def test_trailing_stop_arms_at_the_activation_price_and_trails(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    request = TradingStopRequest("bot1", SYM, trailing_stop=D(500), active_price=D(50500))
    engine.set_trading_stop("A", request, T0)
    assert engine.position("A", SYM).trailing_stop == D(500)
    assert fills(bar(engine, 0, 50000, 50400, 49400, 50300)) == []  # not armed: 49400 is harmless
    assert fills(bar(engine, 1, 50300, 51000, 50200, 50900)) == []  # armed at 51000 -> stop 50500
    [fill] = fills(bar(engine, 2, 50900, 51200, 50400, 50600))  # long path: low first
    assert (fill.price, fill.close_reason, fill.side) == (D(50500), "TrailingStop", Side.SELL)


def test_trailing_stop_without_activation_follows_a_short(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.SELL, "0.1", "e"), T0)
    engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, trailing_stop=D(300)), T0)
    assert fills(bar(engine, 0, 50000, 50200, 49000, 49100)) == []  # short: H(50200<50300) then L
    [fill] = fills(bar(engine, 1, 49100, 49400, 49050, 49300))  # stop 49000+300 = 49300
    assert (fill.price, fill.side) == (D(49300), Side.BUY)


def test_trailing_stop_on_ticks(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, trailing_stop=D(100)), T0)
    for i, price in enumerate(["50050", "50200", "50150"]):
        assert fills(engine.on_price(SYM, D(price), T0 + i + 1)) == []
    [fill] = fills(engine.on_price(SYM, D("50080"), T0 + 10))  # stop 50100, jump fills at tick
    assert fill.price == D("50080")


def test_an_armed_trailing_stop_moves_to_a_fresh_venue_and_fires_where_it_would_have(
    engine: MatchingEngine, make_engine: Callable[..., MatchingEngine]
) -> None:
    """A paper restart: the protection read from one venue, through its JSON form, given to a
    new venue holding the same position, keeps the armed state and the running extreme."""
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    request = TradingStopRequest("bot1", SYM, trailing_stop=D(500), active_price=D(50500))
    engine.set_trading_stop("A", request, T0)
    assert fills(bar(engine, 1, 50300, 51000, 50200, 50900)) == []  # armed at 51000: stop 50500
    saved = engine.protection("A", SYM)
    assert saved is not None and saved.armed and saved.extreme == D(51000)
    moved = Protection.from_json("p", json.loads(json.dumps(saved.to_json())))
    assert moved == saved

    fresh = make_engine()
    fresh.place("A", order(Side.BUY, "0.1", "e"), T0)  # the restart's seeded position,
    fresh.on_price(SYM, D(50900), T0)  # and the price the old venue stood at
    with pytest.raises(OrderRejected, match="another position"):
        fresh.restore_protection("A", SYM, replace(moved, qty=D("0.2")))
    fresh.restore_protection("A", SYM, moved)
    [fill] = fills(bar(fresh, 2, 50900, 51200, 50400, 50600))  # not re-armed from scratch
    assert (fill.price, fill.close_reason) == (D(50500), "TrailingStop")


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("stop_loss", "abc", "p.stop_loss"), ("armed", "yes", "p.armed"), ("qty", None, "p.qty")],
)
def test_a_damaged_saved_protection_is_refused_naming_the_field(
    engine: MatchingEngine, field: str, value: object, named: str
) -> None:
    engine.place("A", order(Side.SELL, "0.1", "e", stop_loss=D(51000)), T0)
    saved = engine.protection("A", SYM)
    assert saved is not None
    raw = saved.to_json() | {field: value}
    with pytest.raises(InvalidField) as err:
        Protection.from_json("p", raw)
    assert err.value.field == named
