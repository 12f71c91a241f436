"""``next_step_from`` (the bar loop's look-up from its previous answer) answers as ``next_step``
does, asked as the loop asks: with starts that never go back, once the previous answer lies
before the start, across short and long jumps."""

from __future__ import annotations

import random
from array import array

from alphadesk.backtest.slots import next_step, next_step_from


def test_next_step_from_matches_next_step_for_forward_starts() -> None:
    rng = random.Random(7)
    for _ in range(300):
        steps = array("q", sorted(rng.sample(range(500), rng.randint(0, 60))))
        found, at, start = -1, -1, 0
        while start < 520:
            if found < start:
                found, at = next_step_from(steps, start, 999, at)
                assert found == next_step(steps, start, 999)
                assert at == len(steps) if found == 999 else steps[at] == found
            start += rng.choice((1, 1, 2, 3, 7, 40, 150))


def test_next_step_from_with_no_steps() -> None:
    assert next_step_from(array("q"), 3, 10, -1) == (10, 0)
