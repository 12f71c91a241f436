"""Optuna's TPE search over the sweep's axes (the optimiser freqtrade's hyperopt users know).

Numeric ranges are searched by index (``suggest_int`` over the axis's positions), so a value is
always exactly one of the grid's and neighbours stay neighbours; lists are categorical. Trials are
asked in batches of :data:`BATCH` (Optuna's constant liar keeps a batch apart) and told in ask
order, whatever the worker count, so a seeded search asks the same questions on every run: a
resumed sweep replays its finished trials from the results file. A set the strategy refuses is a
failed trial; a set asked twice is run once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alphadesk.sweep.space import ParamSet
from alphadesk.sweep.task import IN_SAMPLE, Outcome
from alphadesk.sweep.walkforward import Window

if TYPE_CHECKING:
    from alphadesk.sweep.search import Sweep

BATCH = 8


def optuna_search(sweep: Sweep, window: Window) -> dict[ParamSet, Outcome]:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = sweep.plan
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=plan.seed + window.fold),
    )
    evaluated: dict[ParamSet, Outcome] = {}
    asked = 0
    while asked < plan.n:
        trials = [study.ask() for _ in range(min(BATCH, plan.n - asked))]
        asked += len(trials)
        points: list[ParamSet] = []
        for trial in trials:
            values: list[tuple[str, str]] = []
            for axis in plan.axes:
                if axis.ordered:
                    i = trial.suggest_int(axis.name, 0, len(axis.values) - 1)
                    values.append((axis.name, axis.values[i]))
                else:
                    values.append((axis.name, trial.suggest_categorical(axis.name, axis.values)))
            points.append(tuple(values))
        runnable = []
        for p in points:
            why = sweep.refusal(p)
            if why is None:
                runnable.append(p)
            else:
                sweep.refuse(p, why)
        new = [p for p in dict.fromkeys(runnable) if p not in evaluated]
        # the bar was sized for plan.n distinct runnable sets; refused or repeated ones fall off
        sweep.grow_total(len(new) - len(points))
        evaluated.update(sweep.evaluate(new, IN_SAMPLE, window))
        for trial, p in zip(trials, points, strict=True):
            score = sweep.score(evaluated[p]) if p in evaluated else None
            if score is None:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, score)
    return evaluated

