"""``SymbolBook.recompute_bounds`` spells out its take-profit and stop-loss pair (and compares the
position against a Decimal zero): the same bounds as the loop over ``(level, falls)`` pairs it
replaced, for long and short positions with any mix of protection, trailing stops and orders."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.requests import TriggerDirection
from alphadesk.adapters.sim.state import INF, SimPosition, SymbolBook
from alphadesk.domain.enums import OrderType, Side

from .kit import SYM, T0, order

D = Decimal


def _old_bounds(book: SymbolBook) -> tuple[float, float, bool]:
    """The loop as it was (before the pairs were spelled out)."""
    fall, rise, trailing = -INF, INF, False
    for o in book.orders:
        level = o.trigger_price if o.untriggered else o.price
        if level is None:
            continue
        f = float(level)
        if o.untriggered:
            falling = o.trigger_direction is TriggerDirection.FALLING
        else:
            falling = o.side is Side.BUY
        if falling:
            fall = max(fall, f)
        else:
            rise = min(rise, f)
    for p in book.positions.values():
        long = p.qty > 0
        if p.trail:
            if p.trail_active:
                stop = float(p.trail_extreme - p.trail if long else p.trail_extreme + p.trail)
                extreme = float(p.trail_extreme)
                if long:
                    fall, rise = max(fall, stop), min(rise, extreme)
                else:
                    fall, rise = max(fall, extreme), min(rise, stop)
            elif not p.trail_activation:
                trailing = True
            elif long:
                rise = min(rise, float(p.trail_activation))
            else:
                fall = max(fall, float(p.trail_activation))
        for level, on_fall in ((p.tp, not long), (p.sl, long)):
            if level:
                if on_fall:
                    fall = max(fall, float(level))
                else:
                    rise = min(rise, float(level))
    return fall, rise, trailing


def _price(rng: random.Random) -> Decimal:
    return rng.choice([D(0), D("0.0"), D(rng.randint(1, 99_999)) / 10, D("1E+3"), D("0.5")])


def test_bounds_equal_the_loop_over_pairs(make_engine: Callable[..., MatchingEngine]) -> None:
    rng = random.Random(7)
    engine = make_engine(balance="1000000")
    for n, (side, link) in enumerate([(Side.BUY, "b1"), (Side.SELL, "s1")]):
        kind = {"order_type": OrderType.LIMIT, "price": D(40000 if side is Side.BUY else 60000)}
        engine.place("A", order(side, "0.01", link, **kind), T0 + n)
    engine.place("A", order(Side.SELL, "0.01", "t1", trigger_price=D("45000")), T0 + 5)
    book = engine._books[SYM]
    assert len(book.orders) == 3
    for _ in range(3000):
        book.positions.clear()
        if rng.random() < 0.5:
            book.orders.clear()
        for name in ("A", "B", "C")[: rng.randint(0, 3)]:
            pos = SimPosition(name, SYM)
            pos.qty = rng.choice([D("0.5"), D("-0.5"), D(1), D(-2), D(0), D("0.000")])
            pos.tp, pos.sl = _price(rng), _price(rng)
            pos.trail, pos.trail_activation = _price(rng), _price(rng)
            pos.trail_active = rng.random() < 0.5
            pos.trail_extreme = _price(rng) + D(10)
            book.positions[name] = pos
        want = _old_bounds(book)
        book.recompute_bounds()
        assert (book.fall_bound, book.rise_bound, book.trailing) == want
        assert not book.bounds_dirty
