"""``quiet_bounds`` and ``pass_quiet``: the band a stretch of bars must stay inside to fire
nothing, and handing such a stretch over at once.

The backtest jumps over quiet stretches with them, so two things must hold: the band is exact
(a bar just inside it does nothing, a bar touching its edge fires or settles something), and
``pass_quiet`` leaves the engine exactly as walking the stretch bar by bar does: the same
state, and the same events from whatever comes next.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.protection import Protection
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.adapters.sim.state import NEVER
from alphadesk.domain.enums import ExecType, OrderType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import TradingStopRequest

from .kit import HOUR, MIN5, SYM, T0, order

D = Decimal
INF = float("inf")
FUNDING = T0 + 8 * HOUR  # the first settlement after a position opened at T0


def _limit(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "lim", order_type=OrderType.LIMIT, price=D(49000)), T0)


def _stop_above(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "stp", trigger_price=D(51000)), T0)


def _stop_below(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.SELL, "0.1", "stp", trigger_price=D(49500)), T0)


def _tp_sl(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e", take_profit=D(52000), stop_loss=D(48000)), T0)


def _short_tp_sl(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.SELL, "0.1", "e", take_profit=D(47000), stop_loss=D(50800)), T0)


def _waiting_trail(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    stop = TradingStopRequest("bot1", SYM, trailing_stop=D(500), active_price=D(51000))
    engine.set_trading_stop("A", stop, T0)


def _armed_trail(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    engine.set_trading_stop("A", TradingStopRequest("bot1", SYM, trailing_stop=D(500)), T0)


def _bare_position(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)


def _nothing(engine: MatchingEngine) -> None:
    pass


SETUPS: dict[str, tuple[Callable[[MatchingEngine], None], tuple[float, float, int]]] = {
    "resting limit": (_limit, (49000.0, INF, NEVER)),
    "stop above": (_stop_above, (-INF, 51000.0, NEVER)),
    "stop below": (_stop_below, (49500.0, INF, NEVER)),
    "long TP/SL": (_tp_sl, (48000.0, 52000.0, FUNDING)),
    "short TP/SL": (_short_tp_sl, (47000.0, 50800.0, FUNDING)),
    "trailing stop waiting to arm": (_waiting_trail, (-INF, 51000.0, FUNDING)),
    # armed at the last price at once: (its stop, its running extreme)
    "armed trailing stop": (_armed_trail, (49500.0, 50000.0, FUNDING)),
    "position without protection": (_bare_position, (-INF, INF, FUNDING)),
    "nothing": (_nothing, (-INF, INF, NEVER)),
}


@pytest.mark.parametrize("case", sorted(SETUPS))
def test_quiet_bounds_give_the_band_and_the_next_settlement(
    make_engine: Callable[..., MatchingEngine], case: str
) -> None:
    setup, expected = SETUPS[case]
    engine = make_engine()
    setup(engine)
    assert engine.quiet_bounds(SYM) == expected


def test_a_trailing_stop_that_arms_on_the_next_price_has_no_band(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine()
    engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    # a restart's protection: a trailing stop without activation price, not armed yet
    unarmed = Protection(D("0.1"), D(0), D(0), D(500), D(0), False, D(0))
    engine.restore_protection("A", SYM, unarmed)
    assert engine.quiet_bounds(SYM) is None
    engine.on_bar(SYM, 50000, 50300, 49900, 50200, T0 + MIN5, T0 + 2 * MIN5)  # arms, follows
    assert engine.quiet_bounds(SYM) == (49800.0, 50300.0, FUNDING)  # (stop, running extreme)


def _quiet_bars(
    bounds: tuple[float, float, int], count: int, seed: int
) -> list[tuple[float, float, float, float, int, int]]:
    """``count`` five-minute bars from T0 + 5 min on, wandering strictly inside the band."""
    fall, rise, _funding = bounds
    low_edge = max(fall, 45000.0) + 1.0
    high_edge = min(rise, 55000.0) - 1.0
    rng = random.Random(seed)
    price = min(max(50000.0, low_edge), high_edge)
    out = []
    for n in range(1, count + 1):
        o = price
        c = min(max(o + rng.uniform(-150, 150), low_edge), high_edge)
        h = min(max(o, c) + rng.uniform(0, 100), high_edge)
        lo = max(min(o, c) - rng.uniform(0, 100), low_edge)
        out.append((o, h, lo, c, T0 + n * MIN5, T0 + (n + 1) * MIN5))
        price = c
    return out


def _state(engine: MatchingEngine) -> Any:
    """Everything a later command or bar can depend on, as plain values."""
    book = engine._books[SYM]
    return (
        engine._now_ms,
        (book.last, book.last_dec, book.last_ms, book.next_funding_ms),
        engine.quiet_bounds(SYM),
        engine.wallet("A"),
        engine.position("A", SYM),
        engine.protection("A", SYM),
        engine.open_orders("A"),
        engine.order_history("A"),
        engine.executions("A"),
    )


@pytest.mark.parametrize("case", sorted(set(SETUPS) - {"nothing"}))
def test_pass_quiet_leaves_what_walking_bar_by_bar_leaves(
    make_engine: Callable[..., MatchingEngine], case: str
) -> None:
    setup, bounds = SETUPS[case]
    stepped, passed = make_engine(), make_engine()
    setup(stepped)
    setup(passed)
    bars = _quiet_bars(bounds, count=80, seed=len(case))  # 80 bars: before the settlement
    assert bars[-1][4] < bounds[2]
    for o, h, lo, c, open_ms, close_ms in bars:
        assert not stepped.on_bar(SYM, o, h, lo, c, open_ms, close_ms)  # quiet indeed
    last = bars[-1]
    passed.pass_quiet(SYM, last[3], last[5])
    assert _state(passed) == _state(stepped)
    # what comes next sees no difference: a bar reaching both edges, then the settlement
    fall, rise, _ = bounds
    after = last[5]
    o = last[3]
    h, lo = min(rise, 56000.0), max(fall, 44000.0)
    big: list[list[SimEvent]] = [
        list(e.on_bar(SYM, o, h, lo, o, after, after + MIN5)) for e in (stepped, passed)
    ]
    assert big[0] == big[1]
    assert big[0] or bounds[:2] == (-INF, INF)  # something fired, where anything could
    later = [list(e.on_bar(SYM, o, o, o, o, FUNDING, FUNDING + MIN5)) for e in (stepped, passed)]
    assert later[0] == later[1]
    assert _state(passed) == _state(stepped)


@pytest.mark.parametrize("case", sorted(set(SETUPS) - {"nothing", "armed trailing stop"}))
def test_a_bar_touching_the_band_or_reaching_the_settlement_is_not_quiet(
    make_engine: Callable[..., MatchingEngine], case: str
) -> None:
    """The band is tight: its edge fires or arms something (an armed trailing stop's upper edge
    is its running extreme, which a bar must pass, not touch, to move: left out)."""
    setup, (fall, rise, funding) = SETUPS[case]
    for edge in ("fall", "rise", "funding"):
        engine = make_engine()
        setup(engine)
        if edge == "fall" and fall > -INF:
            events = engine.on_bar(SYM, 50000, 50000, fall, 50000, T0 + MIN5, T0 + 2 * MIN5)
            assert any(isinstance(e, Fill) for e in events) or engine.quiet_bounds(SYM) != (
                fall,
                rise,
                funding,
            ), f"{case}: a low at {fall} changed nothing"
        elif edge == "rise" and rise < INF:
            events = engine.on_bar(SYM, 50000, rise, 50000, 50000, T0 + MIN5, T0 + 2 * MIN5)
            assert any(isinstance(e, Fill) for e in events) or engine.quiet_bounds(SYM) != (
                fall,
                rise,
                funding,
            ), f"{case}: a high at {rise} changed nothing"
        elif edge == "funding" and funding < NEVER:
            events = engine.on_bar(SYM, 50000, 50000, 50000, 50000, funding, funding + MIN5)
            assert [e.exec_type for e in events if isinstance(e, Fill)] == [ExecType.FUNDING]
