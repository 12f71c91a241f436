"""Equity-curve statistics: drawdown, period returns, Sharpe, Sortino, Calmar, CAGR.

An equity curve may hold a point per bar (a million in a long backtest), so these work on float
arrays with numpy. Equity here is an observation marked at bar prices, like the prices themselves,
not money we hold; ratios come out as floats and the caller decides how to print them. The live
ledger's Decimal snapshots go through :func:`curve_arrays` first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from alphadesk.domain.errors import InvalidField

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
CRYPTO_DAYS_PER_YEAR = 365


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Account equity (cash plus unrealised PnL) at an instant, epoch milliseconds UTC."""

    time_ms: int
    equity: Decimal


def curve_arrays(points: Sequence[EquityPoint]) -> tuple[IntArray, FloatArray]:
    times = np.fromiter((p.time_ms for p in points), dtype=np.int64, count=len(points))
    values = np.fromiter((float(p.equity) for p in points), dtype=np.float64, count=len(points))
    return times, values


def _arrays(times_ms: npt.ArrayLike, equity: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    times = np.asarray(times_ms, dtype=np.int64)
    values = np.asarray(equity, dtype=np.float64)
    if times.shape != values.shape or times.ndim != 1:
        raise InvalidField("equity", values.shape, f"must be 1-D and match times {times.shape}")
    if len(times) > 1 and bool(np.any(np.diff(times) < 0)):
        raise InvalidField("times_ms", "unsorted", "must be non-decreasing")
    return times, values


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest fall from a running peak, and the longest time spent below a peak.

    ``max_pct`` is a positive fraction of the peak (0.25 = 25 %); ``max_amount`` the largest fall
    in money, which may happen at another time than the largest fraction. ``max_duration_ms`` runs
    from the peak to the first point back at or above it, or to the curve's end if it never was.
    """

    max_pct: float
    max_amount: float
    peak_ms: int | None
    trough_ms: int | None
    max_duration_ms: int
    duration_start_ms: int | None
    duration_end_ms: int | None


NO_DRAWDOWN = Drawdown(0.0, 0.0, None, None, 0, None, None)


def drawdown(times_ms: npt.ArrayLike, equity: npt.ArrayLike) -> Drawdown:
    times, values = _arrays(times_ms, equity)
    if len(values) < 2:
        return NO_DRAWDOWN
    peaks = np.maximum.accumulate(values)
    falls = peaks - values
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(peaks > 0, falls / peaks, 0.0)
    trough = int(np.argmax(pct))
    max_pct = float(pct[trough])
    if falls.max() <= 0:
        return NO_DRAWDOWN
    peak = int(np.argmax(values[: trough + 1])) if max_pct > 0 else trough
    under = falls > 0
    # Underwater runs: starts where under turns on, ends where it turns off (or at the end).
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    begin_ms = times[starts - 1]  # the peak is the point before the run (starts >= 1 always)
    end_idx = np.minimum(ends, len(times) - 1)
    durations = times[end_idx] - begin_ms
    longest = int(np.argmax(durations))
    return Drawdown(
        max_pct=max_pct,
        max_amount=float(falls.max()),
        peak_ms=int(times[peak]) if max_pct > 0 else None,
        trough_ms=int(times[trough]) if max_pct > 0 else None,
        max_duration_ms=int(durations[longest]),
        duration_start_ms=int(begin_ms[longest]),
        duration_end_ms=int(times[end_idx[longest]]),
    )


def period_returns(
    times_ms: npt.ArrayLike, equity: npt.ArrayLike, period_ms: int = DAY_MS
) -> FloatArray:
    """Simple returns between the last equity of consecutive periods (UTC-aligned buckets).

    The first point is the starting equity: the first period's return is measured from it.
    Empty periods (no point) carry the previous equity, i.e. a zero return, as an idle account has.
    """
    times, values = _arrays(times_ms, equity)
    if len(values) < 2:
        return np.zeros(0, dtype=np.float64)
    buckets = times // period_ms
    last_in_bucket = np.flatnonzero(np.diff(buckets) != 0)
    closes = values[np.append(last_in_bucket, len(values) - 1)]
    span = int(buckets[-1] - buckets[0]) + 1
    filled = np.empty(span, dtype=np.float64)
    index = buckets[np.append(last_in_bucket, len(values) - 1)] - buckets[0]
    marks = np.full(span, np.nan)
    marks[index] = closes
    # forward-fill empty periods
    valid = ~np.isnan(marks)
    positions = np.where(valid, np.arange(span), 0)
    np.maximum.accumulate(positions, out=positions)
    filled[:] = marks[positions]
    base = np.concatenate(([values[0]], filled[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(base != 0, filled / base - 1.0, 0.0)
    return out


def sharpe(returns: npt.ArrayLike, periods_per_year: float = CRYPTO_DAYS_PER_YEAR) -> float | None:
    """Annualised mean over sample standard deviation (risk-free 0); None when undefined."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return None
    std = float(np.std(r, ddof=1))
    if std == 0 or not math.isfinite(std):
        return None
    return float(np.mean(r)) / std * math.sqrt(periods_per_year)


def sortino(
    returns: npt.ArrayLike, periods_per_year: float = CRYPTO_DAYS_PER_YEAR
) -> float | None:
    """Annualised mean over downside deviation sqrt(mean(min(r, 0)^2)); None without downside."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0:
        return None
    return float(np.mean(r)) / downside * math.sqrt(periods_per_year)


def cagr(initial: float, final: float, duration_ms: int) -> float | None:
    """Compound annual growth rate over ``duration_ms``; -1 when the account was wiped out."""
    if initial <= 0 or duration_ms <= 0:
        return None
    if final <= 0:
        return -1.0
    try:
        return float((final / initial) ** (YEAR_MS / duration_ms) - 1.0)
    except OverflowError:  # a gain annualised over minutes: no meaningful rate
        return None


def calmar(annual_return: float | None, max_drawdown_pct: float) -> float | None:
    if annual_return is None or max_drawdown_pct <= 0:
        return None
    return annual_return / max_drawdown_pct
