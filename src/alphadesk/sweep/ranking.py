"""Ranking summaries by one metric, best first, the same way on every run.

Summary metrics are exact decimal strings (or None when undefined, e.g. a Sharpe ratio without
trades); they are compared as Decimals. Undefined values rank last; ties go to the parameter
set's canonical text, so equal sweeps print equal tables whatever order the workers finished in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from alphadesk.domain.errors import InvalidField

#: The summary metrics a sweep can rank by; larger is better for each.
METRICS: tuple[str, ...] = (
    "sharpe",
    "sortino",
    "calmar",
    "cagr",
    "return_pct",
    "net_pnl",
    "profit_factor",
    "expectancy",
    "win_rate",
)

T = TypeVar("T")


def metric_value(summary: Mapping[str, Any] | None, metric: str) -> Decimal | None:
    """The metric of a summary as a Decimal; None when the run failed or it is undefined."""
    if metric not in METRICS:
        raise InvalidField("--metric", metric, f"must be one of {', '.join(METRICS)}")
    if summary is None:
        return None
    raw = summary["metrics"].get(metric)
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def rank(
    items: Iterable[T],
    metric: str,
    summary_of: Callable[[T], Mapping[str, Any] | None],
    key_of: Callable[[T], str],
) -> list[T]:
    """``items`` best first by ``metric``: ``summary_of(item)`` gives its summary (or None),
    ``key_of(item)`` its canonical parameter text (the tie-break)."""

    def order(item: T) -> tuple[int, Decimal, str]:
        value = metric_value(summary_of(item), metric)
        if value is None:
            return (1, Decimal(0), key_of(item))
        return (0, -value, key_of(item))

    return sorted(items, key=order)


def top(ranked: Sequence[T], k: int) -> list[T]:
    return list(ranked[: max(0, k)])
