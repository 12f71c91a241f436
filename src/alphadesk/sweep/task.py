"""One backtest of a sweep: a parameter set over one window, reduced to its summary.

Workers run :func:`evaluate` next to data they already hold (forked from the parent, or scattered
once to each cluster worker): a task carries only the parameters and the window, and its outcome
only the summary (metrics and counts, no fills, trades or curve), so neither direction moves
market data or per-order records per task.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from alphadesk.backtest.data import MarketData, align, cut
from alphadesk.backtest.result import summarize, to_dict
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import build
from alphadesk.sweep.space import ParamSet, key

IN_SAMPLE = "in"
OUT_OF_SAMPLE = "out"

#: What a summary keeps of the backtest JSON: everything but the per-trade and curve lists.
DROPPED = ("trades", "equity_curve")


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What every task of a sweep shares."""

    strategy: str
    settings: BacktestSettings = field(default_factory=BacktestSettings)


@dataclass(frozen=True, slots=True)
class Task:
    phase: str
    fold: int
    start_ms: int
    end_ms: int
    params: ParamSet
    """The swept values as text: the key and what is shown."""
    overrides: Mapping[str, Any]
    """The fixed and swept values typed for the strategy's params, what ``build`` gets."""

    @property
    def key(self) -> str:
        return task_key(self.phase, self.start_ms, self.end_ms, self.params)


def task_key(phase: str, start_ms: int, end_ms: int, params: ParamSet) -> str:
    """Results are keyed by window and parameter set (not by fold number), so a sweep re-run
    with other folds still reuses every backtest whose window it shares."""
    return f"{phase}:{start_ms}-{end_ms}:{key(params)}"


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    summary: dict[str, Any] | None
    error: str | None = None
    cpu_s: float = 0.0


_windows: dict[tuple[int, int, int], tuple[MarketData, MarketData]] = {}


def window_data(data: MarketData, start_ms: int, end_ms: int) -> MarketData:
    """The bars of ``data`` opening in [start_ms, end_ms), aligned again; symbols without bars
    there are left out. A worker keeps the few windows it meets (the source held with them, so
    an id is never reused for other data)."""
    cache_key = (id(data), start_ms, end_ms)
    hit = _windows.get(cache_key)
    if hit is not None and hit[0] is data:
        return hit[1]
    series = [cut(data.series[s], start_ms, end_ms) for s in data.symbols]
    kept = [b for b in series if len(b)]
    if not kept:
        raise InvalidField("window", (start_ms, end_ms), "holds no bars")
    # the funding history, Bybit's rules and the files stay the source's: only the bars are cut
    window = replace(align(kept), funding=data.funding, instruments=data.instruments,
                     files=data.files, notes=data.notes)
    if len(_windows) >= 8:
        _windows.clear()
    _windows[cache_key] = (data, window)
    return window


def summary_of(output_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in output_dict.items() if k not in DROPPED}


def backtest_summary(
    spec: SweepSpec, data: MarketData, overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """The summary of one backtest as ``alphadesk backtest --json`` would write it, less the
    trades and the curve."""
    strategy = build(spec.strategy, **overrides)
    return summary_of(to_dict(summarize(run(strategy, data, spec.settings))))


def evaluate(spec: SweepSpec, data: MarketData, task: Task) -> Outcome:
    """Run one task; a failure is its outcome (reported, kept, not retried), never the sweep's."""
    started = time.process_time()
    try:
        window = window_data(data, task.start_ms, task.end_ms)
        summary = backtest_summary(spec, window, task.overrides)
    except Exception as exc:  # one parameter set's failure must not stop the others
        return Outcome(task.key, None, f"{type(exc).__name__}: {exc}",
                       time.process_time() - started)
    return Outcome(task.key, summary, None, time.process_time() - started)
