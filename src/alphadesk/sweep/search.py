"""Driving a sweep: per walk-forward fold, search in-sample, then run the best sets out of sample.

The search is a grid, a seeded random draw from the grid, or Optuna's TPE sampler
(:mod:`.optuna_search`) over the same axes. Every backtest goes through the :class:`ResultLog`
first: a task it already holds is not run again, which is how an interrupted sweep resumes (and
why a seeded Optuna search, asked the same questions in the same order, replays its finished
trials from the log instead of running them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.sweep.ports import Executor, ResultLog
from alphadesk.sweep.ranking import metric_value, rank
from alphadesk.sweep.space import Axis, ParamSet, Refusal, grid, key, sample
from alphadesk.sweep.task import IN_SAMPLE, OUT_OF_SAMPLE, Outcome, Task
from alphadesk.sweep.walkforward import Window

GRID, RANDOM, OPTUNA = "grid", "random", "optuna"

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each backtest (resumed ones included)."""
Typed = Callable[[ParamSet], Mapping[str, Any]]
"""A parameter set to the strategy's typed overrides (fixed parameters included)."""


@dataclass(frozen=True, slots=True)
class Plan:
    axes: tuple[Axis, ...]
    windows: tuple[Window, ...]
    mode: str = GRID
    n: int = 0
    """Points to draw (random) or trials to run (optuna); unused for a grid."""
    seed: int = 0
    metric: str = "sharpe"
    top: int = 5
    """How many of each fold's best in-sample sets run out of sample."""


@dataclass(slots=True)
class Row:
    params: ParamSet
    in_sample: Outcome
    out_of_sample: Outcome | None = None


@dataclass(slots=True)
class FoldResult:
    window: Window
    ranked: list[Row]
    """Every in-sample set, best first by the in-sample metric."""


@dataclass(slots=True)
class SweepResult:
    plan: Plan
    folds: list[FoldResult]
    ran: int = 0
    resumed: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    """Parameter sets the strategy refuses (key -> reason); never run."""


class Sweep:
    def __init__(
        self,
        plan: Plan,
        executor: Executor,
        log: ResultLog,
        typed: Typed,
        refusal: Refusal,
        progress: Progress | None = None,
    ) -> None:
        self.plan = plan
        self.executor = executor
        self.log = log
        self.typed = typed
        self.refusal = refusal
        self.progress = progress
        self._done = 0
        self._total = 0
        self._result = SweepResult(plan, [])

    # -- the whole sweep -------------------------------------------------------------------

    def run(self) -> SweepResult:
        plan = self.plan
        points: list[ParamSet] | None = None
        if plan.mode == GRID:
            points = self._accepted(list(grid(plan.axes)))
            if not points:
                example, why = next(iter(sorted(self._result.refused.items())))
                raise InvalidField(
                    "--grid", example,
                    f"the strategy refuses every parameter set of the grid, e.g.: {why}",
                )
        elif plan.mode == RANDOM:
            points = sample(plan.axes, plan.n, plan.seed, self.refusal)
        per_fold = len(points) if points is not None else plan.n
        oos = sum(1 for w in plan.windows if w.has_out_of_sample)
        self._total = len(plan.windows) * per_fold + oos * min(plan.top, per_fold)
        self._tick()
        for window in plan.windows:
            if points is not None:
                evaluated = self.evaluate(points, IN_SAMPLE, window)
            else:
                from alphadesk.sweep.optuna_search import optuna_search

                evaluated = optuna_search(self, window)
            ranked = rank(
                (Row(p, o) for p, o in evaluated.items()),
                plan.metric,
                lambda r: r.in_sample.summary,
                lambda r: key(r.params),
            )
            if window.has_out_of_sample:
                best = [r for r in ranked if r.in_sample.summary is not None][: plan.top]
                # counted at min(top, per_fold); fewer usable sets leave the bar short: close it
                self._total -= min(plan.top, per_fold) - len(best)
                outs = self.evaluate([r.params for r in best], OUT_OF_SAMPLE, window)
                for r in best:
                    r.out_of_sample = outs[r.params]
            self._result.folds.append(FoldResult(window, ranked))
        return self._result

    def _accepted(self, points: list[ParamSet]) -> list[ParamSet]:
        kept = []
        for p in points:
            why = self.refusal(p)
            if why is None:
                kept.append(p)
            else:
                self.refuse(p, why)
        return kept

    # -- running backtests through the log -------------------------------------------------

    def task(self, params: ParamSet, phase: str, window: Window) -> Task:
        start, end = (
            (window.in_start_ms, window.in_end_ms)
            if phase == IN_SAMPLE
            else (window.out_start_ms, window.out_end_ms)
        )
        return Task(phase, window.fold, start, end, params, dict(self.typed(params)))

    def evaluate(
        self, points: Sequence[ParamSet], phase: str, window: Window
    ) -> dict[ParamSet, Outcome]:
        """Outcomes of ``points`` in ``window``'s ``phase``: from the log, else run (each kept
        in the log as it arrives)."""
        found: dict[ParamSet, Outcome] = {}
        todo: dict[str, Task] = {}
        for p in dict.fromkeys(points):
            t = self.task(p, phase, window)
            kept = self.log.get(t.key)
            if kept is not None:
                found[p] = kept
                self._result.resumed += 1
                self._tick(1)
            else:
                todo[t.key] = t
        for outcome in self.executor.run(list(todo.values())):
            done = todo[outcome.key]
            self.log.add(done, outcome)
            found[done.params] = outcome
            self._result.ran += 1
            self._tick(1)
        return found

    def refuse(self, params: ParamSet, reason: str) -> None:
        self._result.refused[key(params)] = reason

    def score(self, outcome: Outcome) -> float | None:
        value = metric_value(outcome.summary, self.plan.metric)
        return None if value is None else float(value)

    def grow_total(self, extra: int) -> None:
        self._total += extra
        self._tick()

    def _tick(self, done: int = 0) -> None:
        self._done += done
        if self.progress is not None:
            self._total = max(self._total, self._done)
            self.progress(self._done, self._total)
