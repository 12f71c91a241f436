"""``MomentumLimits.update`` skips what it already knows (the week and month keys within a day,
the checks of limits already set); over random equity paths it must end in exactly the state the
plain rules give, observation by observation."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from decimal import Decimal
from random import Random

from alphadesk.strategies.drawdown import MomentumLimits, _loss_fraction, _lost
from alphadesk.strategies.periods import DAY_MS, HOUR_MS, day_key, month_key, week_key

ZERO = Decimal(0)
D = Decimal
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a Thursday


def _loss(start: Decimal, equity: Decimal) -> Decimal:
    return (start - equity) / start if start > 0 else ZERO


@dataclass
class PlainLimits:
    """The rules as first written: every key and every check on every observation."""

    daily_pct: Decimal
    weekly_pct: Decimal
    monthly_pct: Decimal
    max_drawdown_pct: Decimal
    reduced_factor: Decimal
    day: int = -1
    week: int = -1
    month: int = -1
    day_start: Decimal = ZERO
    week_start: Decimal = ZERO
    month_start: Decimal = ZERO
    peak: Decimal = ZERO
    daily_blocked: bool = False
    weekly_reduced: bool = False
    monthly_halted: bool = False
    drawdown_halted: bool = False

    def update(self, now_ms: int, equity: Decimal) -> None:
        day, week, month = day_key(now_ms), week_key(now_ms), month_key(now_ms)
        if day != self.day:
            self.day, self.day_start, self.daily_blocked = day, equity, False
        if week != self.week:
            self.week, self.week_start, self.weekly_reduced = week, equity, False
        if month != self.month:
            self.month, self.month_start, self.monthly_halted = month, equity, False
        self.peak = max(self.peak, equity)
        if _loss(self.day_start, equity) >= self.daily_pct:
            self.daily_blocked = True
        if _loss(self.week_start, equity) >= self.weekly_pct:
            self.weekly_reduced = True
        if _loss(self.month_start, equity) >= self.monthly_pct:
            self.monthly_halted = True
        if _loss(self.peak, equity) >= self.max_drawdown_pct:
            self.drawdown_halted = True


def state(limits: MomentumLimits | PlainLimits) -> tuple[object, ...]:
    """Every field, Decimals by their digits and exponent (equal values may print apart)."""
    return tuple(v.as_tuple() if isinstance(v, Decimal) else v for v in astuple(limits))


def test_update_ends_where_the_plain_rules_do_over_random_paths() -> None:
    rng = Random(2017)
    for path in range(200):
        pcts = [Decimal(rng.choice(("0.01", "0.03", "0.08", "0.15", "0.2", "0.5"))) for _ in "1234"]
        fast = MomentumLimits(*pcts, reduced_factor=Decimal("0.5"))
        plain = PlainLimits(*pcts, reduced_factor=Decimal("0.5"))
        # some paths start on the day before the epoch (day key -1, the unset value)
        now = rng.choice((T0 + rng.randrange(0, 40) * HOUR_MS, -rng.randrange(1, DAY_MS)))
        equity = Decimal(rng.choice(("10000", "10000.00", "0", "250.5")))
        for _ in range(rng.randrange(1, 400)):
            fast.update(now, equity)
            plain.update(now, equity)
            assert state(fast) == state(plain), (path, now, equity)
            # 4-hour closes, sometimes the same close again, a skipped day or month, a step back
            now += rng.choice((4 * HOUR_MS,) * 8 + (0, 1, DAY_MS, 31 * DAY_MS, -4 * HOUR_MS))
            move = rng.choice(("1", "1", "0.99", "0.97", "0.9", "0.8", "1.02", "1.1", "0"))
            equity = (equity * Decimal(move)).quantize(Decimal("0.01")) if move != "1" else equity
            if rng.random() < 0.1:
                equity = Decimal(rng.randrange(0, 20_000)) / rng.choice((1, 10, 100))


def test_a_set_limit_stays_set_until_its_period_changes() -> None:
    limits = MomentumLimits(
        daily_pct=Decimal("0.03"), weekly_pct=Decimal("0.08"), monthly_pct=Decimal("0.15"),
        max_drawdown_pct=Decimal("0.2"), reduced_factor=Decimal("0.5"),
    )  # fmt: skip
    limits.update(T0, Decimal(1000))
    limits.update(T0 + 4 * HOUR_MS, Decimal(960))  # -4 %: the day's limit
    assert not limits.entries_allowed and limits.size_factor == 1
    limits.update(T0 + 8 * HOUR_MS, Decimal(1000))  # recovered, same day: still blocked
    assert not limits.entries_allowed
    limits.update(T0 + DAY_MS, Decimal(1000))  # the next day clears it
    assert limits.entries_allowed


def test_lost_is_the_loss_fraction_test_with_or_without_the_division() -> None:
    """_lost skips the division only where the fraction cannot reach a positive limit (equity
    at or above the start); elsewhere, and for a limit <= 0, it is the division's answer."""
    amounts = [D(0), D(-5), D("0.01"), D(90), D(100), D("100.00"), D("100.000001"), D(150)]
    limits = [D(0), D("-0.5"), D("0.00000001"), D("0.1"), D("0.5"), D(1), D(2)]
    for start in amounts:
        for equity in amounts:
            for limit in limits:
                assert _lost(start, equity, limit) is (_loss_fraction(start, equity) >= limit)
