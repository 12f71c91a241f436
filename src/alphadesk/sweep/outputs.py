"""A finished sweep as JSON and CSV: one row per (fold, in-sample rank), best first.

Pure: builds the text; the command writes it. Both carry only summary figures (the results file
keeps each backtest's whole summary).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from alphadesk.sweep.search import Row, SweepResult
from alphadesk.sweep.task import Outcome

#: The summary metrics shown per run, in this order.
COLUMNS: tuple[str, ...] = (
    "trades",
    "return_pct",
    "net_pnl",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "profit_factor",
    "win_rate",
    "fees",
)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def figures(outcome: Outcome | None) -> dict[str, Any] | None:
    """The :data:`COLUMNS` of a run's summary; ``{"error": ...}`` for a failed run."""
    if outcome is None:
        return None
    if outcome.summary is None:
        return {"error": outcome.error}
    metrics = outcome.summary["metrics"]
    return {c: metrics.get(c) for c in COLUMNS}


def _row(rank: int, row: Row) -> dict[str, Any]:
    return {
        "rank": rank,
        "params": dict(row.params),
        "in_sample": figures(row.in_sample),
        "out_of_sample": figures(row.out_of_sample),
    }


def walk_forward(result: SweepResult) -> list[dict[str, Any]]:
    """Per fold, the best in-sample set and its metric in and out of sample: what choosing by
    the search would have earned on bars it had not seen."""
    metric = result.plan.metric
    out = []
    for fold in result.folds:
        best = next((r for r in fold.ranked if r.out_of_sample is not None), None)
        if best is None:
            continue
        out.append({
            "fold": fold.window.fold,
            "params": dict(best.params),
            "in_sample": _metric(best.in_sample, metric),
            "out_of_sample": _metric(best.out_of_sample, metric),
        })
    return out


def _metric(outcome: Outcome | None, metric: str) -> Any:
    if outcome is None or outcome.summary is None:
        return None
    return outcome.summary["metrics"].get(metric)


def to_dict(result: SweepResult, meta: dict[str, Any]) -> dict[str, Any]:
    plan = result.plan
    return {
        **meta,
        "walk_forward": walk_forward(result),
        "mode": plan.mode,
        "metric": plan.metric,
        "top": plan.top,
        "backtests_run": result.ran,
        "backtests_resumed": result.resumed,
        "refused": result.refused,
        "folds": [
            {
                "fold": f.window.fold,
                "in_sample": [iso(f.window.in_start_ms), iso(f.window.in_end_ms)],
                "out_of_sample": [iso(f.window.out_start_ms), iso(f.window.out_end_ms)]
                if f.window.has_out_of_sample
                else None,
                "ranked": [_row(i + 1, r) for i, r in enumerate(f.ranked)],
            }
            for f in result.folds
        ],
    }


def to_json(result: SweepResult, meta: dict[str, Any]) -> str:
    return json.dumps(to_dict(result, meta), sort_keys=True, indent=1) + "\n"


def to_csv(result: SweepResult) -> str:
    names = [a.name for a in result.plan.axes]
    header = [
        "fold", "rank", *names,
        *(f"is_{c}" for c in COLUMNS), "is_error",
        *(f"oos_{c}" for c in COLUMNS), "oos_error",
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for fold in result.folds:
        for i, row in enumerate(fold.ranked):
            params = dict(row.params)
            cells: list[Any] = [fold.window.fold, i + 1, *(params[n] for n in names)]
            for outcome in (row.in_sample, row.out_of_sample):
                shown = figures(outcome) or {}
                cells.extend("" if shown.get(c) is None else shown[c] for c in COLUMNS)
                cells.append(shown.get("error") or "")
            writer.writerow(cells)
    return buf.getvalue()
