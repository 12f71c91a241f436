"""Equity drawdown ladders: LXAlgo's daily/weekly protection and Momentum's period limits.

Both watch ``ctx.portfolio.equity`` (unrealised PnL included) at each close time and keep their
baselines by UTC calendar period of the decision time, so a backtest and a live run reset on the
same bar. They decide only what the strategy may do next; closing positions is the strategy's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alphadesk.strategies.periods import day_key, month_key, week_key

ONE = Decimal(1)
ZERO = Decimal(0)


def _loss_fraction(start: Decimal, equity: Decimal) -> Decimal:
    """How far ``equity`` is below ``start``, as a fraction of ``start`` (negative when above)."""
    return (start - equity) / start if start > ZERO else ZERO


def _lost(start: Decimal, equity: Decimal, limit: Decimal) -> bool:
    """``_loss_fraction(start, equity) >= limit``. When ``limit`` is > 0, equity at or above
    ``start`` (a fraction <= 0, or ZERO) answers False without the Decimal division: the checks
    run at every close, and equity is often at or above a period's start."""
    if equity >= start and limit > ZERO:
        return False
    return _loss_fraction(start, equity) >= limit


@dataclass
class LxLadder:
    """LXAlgo: daily drawdown >= daily_pct -> close all and pause until the next UTC day;
    weekly >= reduce_pct -> size x factor until equity recovers to start - 0.5 x peak weekly loss;
    weekly >= halt_pct -> close all and halt until next Monday 00:00 UTC. Fractions, not percent.
    """

    daily_pct: Decimal
    weekly_reduce_pct: Decimal
    weekly_halt_pct: Decimal
    reduced_factor: Decimal
    day: int = -1
    week: int = -1
    day_start: Decimal = ZERO
    week_start: Decimal = ZERO
    peak_weekly_loss: Decimal = ZERO
    daily_paused: bool = False
    weekly_halted: bool = False
    size_factor: Decimal = ONE

    def update(self, now_ms: int, equity: Decimal) -> bool:
        """Feed one observation; True when positions must be closed now."""
        close_all = False
        day, week = day_key(now_ms), week_key(now_ms)
        if day != self.day:
            self.day, self.day_start, self.daily_paused = day, equity, False
        if week != self.week:
            self.week, self.week_start = week, equity
            self.peak_weekly_loss, self.weekly_halted, self.size_factor = ZERO, False, ONE
        if not self.daily_paused and _lost(self.day_start, equity, self.daily_pct):
            self.daily_paused = close_all = True
        weekly_loss = self.week_start - equity
        self.peak_weekly_loss = max(self.peak_weekly_loss, weekly_loss)
        weekly = _loss_fraction(self.week_start, equity)
        if not self.weekly_halted and weekly >= self.weekly_halt_pct:
            self.weekly_halted = close_all = True
        if weekly >= self.weekly_reduce_pct:
            self.size_factor = self.reduced_factor
        elif self.size_factor < ONE and equity >= self.week_start - self.peak_weekly_loss / 2:
            self.size_factor = ONE
        return close_all

    @property
    def entries_allowed(self) -> bool:
        return not (self.daily_paused or self.weekly_halted) and self.size_factor > 0


@dataclass
class MomentumLimits:
    """Momentum: day <= -daily_pct -> no entries for the rest of the UTC day; ISO week <=
    -weekly_pct -> size x factor until the week changes; month <= -monthly_pct -> no entries until
    the month changes; drawdown from the equity peak >= max_drawdown_pct -> no entries at all
    (latched: the seed left this as a TODO; resuming is an operator's decision, a restart).
    """

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
        """Feed one observation (a close time and the equity then).

        It runs at every close a strategy is called on, so it leaves out what it already knows:
        the week and month keys when the UTC day is the one it last saw (a day lies in one week
        and one month; ``month == -1`` is before the first call, a month key is never negative),
        and a limit's check once the limit is set (only a new period clears it)."""
        day = day_key(now_ms)
        new_day = day != self.day
        if new_day:
            self.day, self.day_start, self.daily_blocked = day, equity, False
        if new_day or self.month == -1:
            week, month = week_key(now_ms), month_key(now_ms)
            if week != self.week:
                self.week, self.week_start, self.weekly_reduced = week, equity, False
            if month != self.month:
                self.month, self.month_start, self.monthly_halted = month, equity, False
        if equity > self.peak:  # max(peak, equity): the same object when they are equal
            self.peak = equity
        if not self.daily_blocked and _lost(self.day_start, equity, self.daily_pct):
            self.daily_blocked = True
        if not self.weekly_reduced and _lost(self.week_start, equity, self.weekly_pct):
            self.weekly_reduced = True
        if not self.monthly_halted and _lost(self.month_start, equity, self.monthly_pct):
            self.monthly_halted = True
        if not self.drawdown_halted and _lost(self.peak, equity, self.max_drawdown_pct):
            self.drawdown_halted = True

    @property
    def entries_allowed(self) -> bool:
        return not (self.daily_blocked or self.monthly_halted or self.drawdown_halted)

    @property
    def size_factor(self) -> Decimal:
        return self.reduced_factor if self.weekly_reduced else ONE
