"""Calendar keys: days, ISO weeks (Monday 00:00 UTC), months, fixed buckets, bar-grid floors."""

from __future__ import annotations

from alphadesk.strategies.periods import bucket_key, day_key, floor_to, month_key, week_key
from alphadesk.testing.strategy_harness import MINUTE_MS, utc_ms


def test_week_starts_monday_midnight_utc() -> None:
    sunday_late = utc_ms(2025, 10, 5, 23, 55)
    monday = utc_ms(2025, 10, 6)
    assert week_key(monday) == week_key(sunday_late) + 1
    assert week_key(utc_ms(2025, 10, 12, 23, 59)) == week_key(monday)


def test_day_month_and_bucket_boundaries() -> None:
    assert day_key(utc_ms(2025, 10, 2)) == day_key(utc_ms(2025, 10, 1, 23, 59)) + 1
    assert month_key(utc_ms(2025, 11, 1)) == month_key(utc_ms(2025, 10, 31, 23, 59)) + 1
    assert month_key(utc_ms(2026, 1, 1)) == month_key(utc_ms(2025, 12, 31)) + 1
    assert bucket_key(utc_ms(2025, 10, 1, 3, 59), 4) == bucket_key(utc_ms(2025, 10, 1), 4)
    assert bucket_key(utc_ms(2025, 10, 1, 4), 4) == bucket_key(utc_ms(2025, 10, 1), 4) + 1
    t = utc_ms(2025, 10, 1, 10, 5)
    assert floor_to(t + 299, 5 * MINUTE_MS) == t
