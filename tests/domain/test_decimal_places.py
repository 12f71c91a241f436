"""decimal_places (the derived tick's digits) answers as the per-value loop it replaced, for any
order and repeats of the values: the backtest passes it each distinct sampled price once."""

from __future__ import annotations

import math
import random

from alphadesk.domain.decimals import decimal_places


def _loop(values: list[float], most: int) -> int:
    """The loop backtest.instruments._decimals ran before (in sample order, repeats included)."""
    places = 0
    for value in values:
        text = repr(float(value))
        if "e" in text:
            return most
        if "." in text:
            places = max(places, len(text.split(".")[1].rstrip("0")))
    return min(places, most)


CASES: list[list[float]] = [
    [],
    [1.0, 2.0, 3.0],
    [0.5, 0.25, 0.125, 0.5],
    [27123.4, 27123.45, 27123.4],
    [0.1234567891, 1.5],  # more than 8 places: capped
    [1e-05, 0.5],  # written with an exponent
    [1.5, 1e16],
    [-0.0, 0.0, 3.75],
    [math.nan, 2.5, math.inf, -math.inf, math.nan],
    [0.30000000000000004, 0.1],
]


def test_same_answer_as_the_loop_in_any_order_and_without_repeats() -> None:
    rng = random.Random(7)
    cases = [*CASES]
    for _ in range(200):
        ticks = rng.choice([1.0, 0.5, 0.1, 0.01, 0.001, 0.0001])
        cases.append([round(rng.uniform(0, 500) / ticks) * ticks for _ in range(50)])
    for values in cases:
        want = _loop(values, 8)
        shuffled = [*values, *values]
        rng.shuffle(shuffled)
        assert decimal_places(values, 8) == want
        assert decimal_places(set(shuffled), 8) == want
        assert decimal_places(shuffled, 3) == _loop(values, 3)
