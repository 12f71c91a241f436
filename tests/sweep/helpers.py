"""A small sweep for the tests: three symbols of 5-minute bars over four days, a handful of sets."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from alphadesk.backtest.data import MarketData, load
from alphadesk.sweep.params import binder, check_axes
from alphadesk.sweep.ports import Executor
from alphadesk.sweep.search import GRID, Plan, Progress, Sweep, SweepResult
from alphadesk.sweep.space import parse_grid
from alphadesk.sweep.store import JsonlResults
from alphadesk.sweep.task import SweepSpec
from alphadesk.sweep.walkforward import windows

START_MS = 1_758_672_000_000  # 2025-09-24T00:00Z, where the bundled 5-minute files start
END_MS = START_MS + 4 * 86_400_000
STRATEGY = "ema_cross"
FIXED = {"symbols": "BTCUSDT,ETHUSDT,SOLUSDT"}
GRID_TEXT = "fast=5:15:5,slow=10:30:10"  # 9 points, 2 refused (slow not above fast)
SPEC = SweepSpec(STRATEGY)


def five_minute_files(market_files: Callable[[str], list[Path]]) -> list[Path]:
    files = market_files("*_5m_bybit-perp-*.csv")
    assert len(files) == 3
    return files


def market(files: list[Path]) -> MarketData:
    return load(files, START_MS, END_MS)


def plan(
    data: MarketData, mode: str = GRID, n: int = 0, folds: int = 1, top: int = 2
) -> Plan:
    axes = parse_grid(GRID_TEXT)
    check_axes(STRATEGY, axes, FIXED)
    wins = windows(
        int(data.timeline[0]), int(data.close_times[-1]), data.interval_min * 60_000,
        folds, Fraction(7, 10),
    )
    return Plan(axes, tuple(wins), mode, n, seed=3, metric="return_pct", top=top)


def sweep(
    the_plan: Plan, executor: Executor, folder: Path, progress: Progress | None = None
) -> SweepResult:
    overrides, refusal = binder(STRATEGY, FIXED)
    log = JsonlResults(folder, {"strategy": STRATEGY, "fixed": FIXED})
    try:
        return Sweep(the_plan, executor, log, overrides, refusal, progress).run()
    finally:
        log.close()


def table(result: SweepResult) -> list[tuple[object, ...]]:
    """Everything a sweep decided, comparable across runs: per fold, each row's parameters and
    both summaries, in rank order."""
    return [
        (
            f.window,
            r.params,
            r.in_sample.summary,
            r.in_sample.error,
            None if r.out_of_sample is None else r.out_of_sample.summary,
        )
        for f in result.folds
        for r in f.ranked
    ]
