"""The engine's "no settlement due" sentinel is the largest int mypyc keeps unboxed, and every
comparison the engine makes with it answers as with the former ``1 << 62``."""

from __future__ import annotations

import random

from alphadesk.adapters.sim.funding import FundingSchedule
from alphadesk.adapters.sim.state import NEVER

OLD = 1 << 62
LAST_MS = 253_402_300_799_999  # checks.from_epoch_ms's bound: the last instant it holds
DAY_MS = 86_400_000


def test_never_is_a_short_int_beyond_every_time_the_engine_holds() -> None:
    assert NEVER == 2**62 - 1  # short: |value| < 2**62 (mypyc's tagged ints, one bit for the tag)
    assert NEVER < OLD
    assert NEVER > LAST_MS + 100 * DAY_MS


def test_comparisons_answer_as_with_the_old_sentinel() -> None:
    rng = random.Random(7)
    times = [0, 1, LAST_MS - 1, LAST_MS, LAST_MS + DAY_MS, NEVER - 1]
    times += [rng.randrange(0, LAST_MS + DAY_MS) for _ in range(2_000)]
    for ms in times:
        assert (ms >= NEVER) == (ms >= OLD)
        assert (ms < NEVER) == (ms < OLD)
        assert min(NEVER, ms) == min(OLD, ms)
    # a settlement follows one the engine stamped (<= LAST_MS): still below the sentinel
    for interval in (60_000, 3_600_000, 8 * 3_600_000, DAY_MS):
        schedule = FundingSchedule(interval, [LAST_MS - interval, LAST_MS])
        assert schedule.next_after(LAST_MS) < NEVER
