"""Sweep speed: 100 ema_cross parameter sets, each a backtest of 3 symbols of 5-minute bars
(the bundled BTC/ETH/SOL files, 17,280 bars each), on local processes with 1 and 2 workers.

The sweep is the real one (``alphadesk.sweep``: the grid, the fork pool sharing the loaded
candles, summaries back) with the whole period in-sample (no walk-forward split, so every set is
one backtest) and the results kept in memory instead of the results file. Each worker count runs
``BENCH_ROUNDS`` times (default 2), alternating, and the fastest round of each counts.

Prints ``sweep: N backtests/s`` (2 workers, wall time: a sweep is judged by when it ends) and
``scaling 1→2 workers: X`` (wall time of 1 worker / wall time of 2). Wall time is what scaling
means, and other work on the machine lowers it; so stderr also shows the workers' CPU time per
backtest in each mode (``time.process_time`` inside the worker: equal figures mean two workers
cost no extra CPU per backtest, so what scaling loses is the machine's other load), the
parallelism actually obtained (workers' CPU / wall), the parent's CPU per backtest, the load
average, and the scaling those CPU figures imply with a core per worker (2 x the ratio of CPU
per backtest), labelled as an estimate.
Run: ``.venv/bin/python benchmarks/sweep.py``.
"""

from __future__ import annotations

import os
import sys
import time
from fractions import Fraction

from alphadesk.backtest.data import MarketData, load
from alphadesk.data import market_files
from alphadesk.sweep.local import LocalExecutor
from alphadesk.sweep.params import binder, check_axes
from alphadesk.sweep.search import GRID, Plan, Sweep
from alphadesk.sweep.space import parse_grid, size
from alphadesk.sweep.task import Outcome, SweepSpec, Task
from alphadesk.sweep.walkforward import windows

STRATEGY = "ema_cross"
GRID_TEXT = "fast=5:50:5,slow=60:240:20"  # 10 x 10 = 100 sets, all accepted (slow > fast)
FIXED = {"symbols": "BTCUSDT,ETHUSDT,SOLUSDT"}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


class MemoryLog:
    """The results port in memory: the benchmark measures backtests, not fsync."""

    def __init__(self) -> None:
        self.done: dict[str, Outcome] = {}

    def get(self, key: str) -> Outcome | None:
        return self.done.get(key)

    def add(self, task: Task, outcome: Outcome) -> None:
        self.done[outcome.key] = outcome


def one_sweep(data: MarketData, plan: Plan, workers: int) -> tuple[float, float, int, float]:
    """(wall seconds, workers' CPU seconds, backtests, the parent's CPU seconds) of one whole
    sweep."""
    overrides, refusal = binder(STRATEGY, FIXED)
    executor = LocalExecutor(SweepSpec(STRATEGY), data, workers)  # pool start not timed
    log = MemoryLog()
    try:
        started, parent = time.perf_counter(), time.process_time()
        result = Sweep(plan, executor, log, overrides, refusal).run()
        wall, parent = time.perf_counter() - started, time.process_time() - parent
    finally:
        executor.close()
    failed = [o.error for o in log.done.values() if o.summary is None]
    if failed:
        raise SystemExit(f"a backtest failed: {failed[0]}")
    return wall, sum(o.cpu_s for o in log.done.values()), result.ran, parent


def main() -> None:
    files = market_files("*_5m_bybit-perp-*.csv")
    data = load(files)
    axes = parse_grid(GRID_TEXT)
    check_axes(STRATEGY, axes, FIXED)
    assert size(axes) == 100
    whole = windows(
        int(data.timeline[0]), int(data.close_times[-1]), data.interval_min * 60_000, 1,
        Fraction(1),
    )
    plan = Plan(axes, tuple(whole), GRID, metric="sharpe", top=0)
    print(
        f"  ({size(axes)} parameter sets x {len(data.symbols)} symbols, "
        f"{data.bar_count:,} bars per backtest; load average {os.getloadavg()[0]:.2f})",
        file=sys.stderr,
    )
    best: dict[int, tuple[float, float, int, float]] = {}
    for _ in range(ROUNDS):
        for workers in (1, 2):
            got = one_sweep(data, plan, workers)
            if workers not in best or got[0] < best[workers][0]:
                best[workers] = got
            wall, cpu, n, parent = got
            print(
                f"  {workers} worker(s): {n} backtests in {wall:.2f} s wall, "
                f"{cpu / n * 1000:.1f} ms worker CPU per backtest, parallelism {cpu / wall:.2f}, "
                f"parent CPU {parent / n * 1000:.2f} ms per backtest",
                file=sys.stderr,
            )
    wall1, cpu1, n1, _ = best[1]
    wall2, cpu2, n2, _ = best[2]
    print(f"sweep: {n2 / wall2:,.1f} backtests/s", flush=True)
    print(f"scaling 1→2 workers: {wall1 / wall2:.2f}", flush=True)
    print(
        f"  (worker CPU per backtest: {cpu1 / n1 * 1000:.1f} ms with 1 worker, "
        f"{cpu2 / n2 * 1000:.1f} ms with 2; {n1 / cpu1:,.1f} backtests per CPU-second; "
        f"load average after: {os.getloadavg()[0]:.2f})",
        file=sys.stderr,
    )
    print(
        f"  (scaling with a core per worker, from CPU time: {2 * (cpu1 / n1) / (cpu2 / n2):.2f}; "
        "an estimate, not the measured figure above)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
