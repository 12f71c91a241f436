"""``alphadesk sweep``: many backtests of one strategy over a parameter space, walk-forward.

Wiring only: flags to a :class:`~alphadesk.sweep.search.Plan`, the executor (local processes, or
a Dask cluster with ``--cluster``), the results folder, a progress bar, then the ranked table,
``summary.json``/``summary.csv`` and the best runs' HTML reports.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from alphadesk.app.commands import checks
from alphadesk.app.commands.checks import time_ms
from alphadesk.app.logging import HUMAN
from alphadesk.app.settings import SettingsError
from alphadesk.backtest import build as native
from alphadesk.backtest.data import PERIOD, MarketData, load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import summarize
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import STRATEGIES, build
from alphadesk.sweep import outputs
from alphadesk.sweep.params import binder, check_axes
from alphadesk.sweep.ports import Executor
from alphadesk.sweep.ranking import METRICS
from alphadesk.sweep.search import GRID, OPTUNA, RANDOM, Plan, Sweep, SweepResult
from alphadesk.sweep.space import ParamSet, parse_grid, size
from alphadesk.sweep.store import JsonlResults
from alphadesk.sweep.task import Outcome, SweepSpec, window_data
from alphadesk.sweep.walkforward import windows


def _fraction(text: str) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep", help="search a strategy's parameters over candles (walk-forward, resumable)"
    )
    p.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    p.add_argument("--data", required=True, nargs="+", type=Path, metavar="FILE|FOLDER",
                   help="candle files (CSV or Parquet), or data folders: from a folder, one "
                   "file per symbol at the strategy's timeframe or the coarsest finer one")
    p.add_argument("--grid", required=True, metavar="SPACE",
                   help="'fast=5:50:5,slow=20:200:10' (start:stop:step inclusive, a|b|c, value)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--random", type=int, metavar="N", help="N sets drawn from the grid")
    how.add_argument("--optuna", type=int, metavar="N", help="N Optuna (TPE) trials")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metric", default="sharpe", choices=METRICS)
    p.add_argument("--folds", type=int, default=1, help="walk-forward folds (default 1)")
    p.add_argument("--in-sample", type=_fraction, default=Fraction(7, 10), metavar="F",
                   help="in-sample share of each fold (default 0.7; 1 = no out-of-sample)")
    p.add_argument("--top", type=int, default=5,
                   help="best in-sample sets per fold run out of sample (default 5)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="a Dask scheduler (tcp://host:8786), or 'local' for an in-process one")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results folder (default sweep-STRATEGY); re-running resumes")
    p.add_argument("--reports", type=int, default=0, metavar="K",
                   help="HTML reports of each fold's K best (out-of-sample window when there)")
    p.add_argument("--show", type=int, default=10, metavar="N", help="table rows per fold")
    p.add_argument("--from", dest="start", type=time_ms, help="UTC date/time or epoch ms")
    p.add_argument("--to", dest="end", type=time_ms, help="UTC date/time or epoch ms")
    p.add_argument("--param", action="append", type=checks.param, default=[], metavar="k=v",
                   help="a fixed parameter (e.g. symbols=BTCUSDT,ETHUSDT)")
    p.add_argument("--fees", default="0.00055,0.0002", metavar="taker,maker")
    p.add_argument("--slippage-bps", type=checks.decimal, default=Decimal(0))
    p.add_argument("--funding-rate", type=checks.decimal, default=Decimal("0.0001"))
    p.add_argument("--equity", type=checks.decimal, default=Decimal(10_000))
    p.add_argument("--progress", action="store_true", help="progress bar even when not a TTY")
    p.set_defaults(handler=handle, log_format=HUMAN)


def _check_args(args: argparse.Namespace) -> None:
    checks.input_files("--data", args.data, folders=True)
    checks.output_folder("--out", args.out)
    checks.positive("--equity", args.equity)
    checks.positive("--slippage-bps", args.slippage_bps, zero_ok=True)
    for flag, value, low in (
        ("--random", args.random, 1), ("--optuna", args.optuna, 1), ("--workers", args.workers, 1),
        ("--folds", args.folds, 1), ("--top", args.top, 0), ("--reports", args.reports, 0),
        ("--show", args.show, 0),
    ):
        if value is not None and value < low:
            raise SettingsError(f"{flag}={value}: must be >= {low}")
    if not 0 < args.in_sample <= 1:
        raise SettingsError(f"--in-sample={float(args.in_sample)}: must be in (0, 1]")
    if args.start is not None and args.end is not None and args.start >= args.end:
        raise SettingsError("--from/--to: --from must be before --to")


def _settings(args: argparse.Namespace) -> BacktestSettings:
    try:
        taker, maker = (Decimal(x) for x in args.fees.split(","))
    except (ValueError, InvalidOperation):
        raise SettingsError(f"--fees {args.fees!r}: expected taker,maker") from None
    return BacktestSettings(
        initial_equity=args.equity, taker_fee=taker, maker_fee=maker,
        slippage_bps=args.slippage_bps, funding_rate=args.funding_rate,
    )


def fingerprint(
    strategy: str, fixed: dict[str, str], paths: list[Path], settings: BacktestSettings
) -> dict[str, Any]:
    """What decides every backtest's result besides its window and swept values."""
    return {
        "strategy": strategy,
        "fixed_params": dict(sorted(fixed.items())),
        "data_sha256": sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in paths),
        "settings": {
            "initial_equity": str(settings.initial_equity),
            "fees": [str(settings.taker_fee), str(settings.maker_fee)],
            "slippage_bps": str(settings.slippage_bps),
            "funding_rate": str(settings.funding_rate),
        },
    }


def _executor(args: argparse.Namespace, spec: SweepSpec, data: MarketData) -> Executor:
    if args.cluster:
        try:
            import distributed  # noqa: F401 - the optional extra, checked before any work
        except ModuleNotFoundError as exc:
            raise SettingsError(
                f"--cluster {args.cluster!r}: needs {exc.name} (pip install 'alphadesk[sweep]')"
            ) from None
        # the scheduler's and workers' connection chatter is not the sweep's news (set after
        # the import: distributed sets its own level when imported)
        logging.getLogger("distributed").setLevel(logging.WARNING)
        from alphadesk.sweep.cluster import DaskExecutor

        try:
            return DaskExecutor(spec, data, args.cluster, local_workers=args.workers)
        except OSError as exc:
            raise SettingsError(f"--cluster {args.cluster!r}: cannot connect: {exc}") from None
    from alphadesk.sweep.local import LocalExecutor

    return LocalExecutor(spec, data, args.workers)


def handle(args: argparse.Namespace) -> int:
    _check_args(args)
    settings = _settings(args)
    fixed = dict(args.param)
    out = args.out or Path(f"sweep-{args.strategy}")
    try:
        axes = parse_grid(args.grid)
        check_axes(args.strategy, axes, fixed)
        overrides, refusal = binder(args.strategy, fixed)
        # a folder's files for the strategy's timeframe with the fixed parameters (a swept
        # timeframe resamples the same files per run)
        timeframe = build(args.strategy, **overrides(())).timeframe_min
        files = checks.candle_files("--data", args.data, timeframe)
        data = load(files, args.start, args.end)
        folds = windows(
            int(data.timeline[0]), int(data.close_times[-1]), data.interval_min * 60_000,
            args.folds, args.in_sample,
        )
        log = JsonlResults(out, fingerprint(args.strategy, fixed, files, settings))
    except InvalidField as exc:
        if exc.field == PERIOD:
            print(f"sweep: --from/--to {exc.value}: {exc.reason}", file=sys.stderr)
        else:
            print(f"sweep: {exc}", file=sys.stderr)
        return 2
    mode, n = (RANDOM, args.random) if args.random else (OPTUNA, args.optuna) if args.optuna \
        else (GRID, 0)
    plan = Plan(axes, tuple(folds), mode, n, args.seed, args.metric, args.top)
    spec = SweepSpec(args.strategy, settings)
    try:
        executor = _executor(args, spec, data)  # before the progress bar's thread: workers fork
    except BaseException:
        log.close()
        raise
    workers = executor.workers
    if not args.cluster:  # a cluster's workers run whatever build their machines have
        print(f"sweep: build: {native.described()}", file=sys.stderr)
    show = args.progress or sys.stderr.isatty()
    bar = _progress_bar() if show else None
    started = time.perf_counter()
    try:
        result = Sweep(plan, executor, log, overrides, refusal,
                       progress=bar[0] if bar else None).run()
    except KeyboardInterrupt:
        print(f"sweep: interrupted; {log.count} results kept in {out}/ "
              "(run the same command again to resume)", file=sys.stderr)
        raise
    except InvalidField as exc:
        print(f"sweep: {exc}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar[1].stop()
        executor.close()
        log.close()
    seconds = time.perf_counter() - started
    meta = {"strategy": args.strategy, "fixed_params": fixed, "grid": args.grid,
            "points_in_grid": size(axes), "seed": args.seed}
    (out / "summary.json").write_text(outputs.to_json(result, meta), encoding="utf-8")
    (out / "summary.csv").write_text(outputs.to_csv(result), encoding="utf-8")
    _table(result, args.show)
    reports = _reports(result, spec, overrides, data, out, args.reports)
    rate = result.ran / seconds if seconds > 0 else 0.0
    plural = "" if workers == 1 else "s"
    print(
        f"{result.ran} backtests run ({rate:,.1f}/s on {workers} worker{plural}), "
        f"{result.resumed} from {out}/results.jsonl, {len(result.refused)} sets refused by "
        f"{args.strategy}; wrote {out}/summary.json, {out}/summary.csv"
        + (f" and {len(reports)} reports" if reports else "")
    )
    chosen = outputs.walk_forward(result)
    if chosen:
        shown = ", ".join(
            f"fold {c['fold']} {_short(c['in_sample'])} -> {_short(c['out_of_sample'])}"
            for c in chosen
        )
        print(f"walk-forward, each fold's best {args.metric} in-sample -> out-of-sample: {shown}")
    if result.refused:
        example_key, why = next(iter(sorted(result.refused.items())))
        print(f"  refused, e.g. {example_key}: {why}")
    return 0


def _progress_bar() -> tuple[Any, Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), transient=True, console=Console(stderr=True))
    task = bar.add_task("sweep", total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar


def _cell(figures: dict[str, Any] | None, name: str) -> str:
    if figures is None:
        return ""
    if figures.get("error"):
        return "error"
    return _short(figures.get(name))


def _short(value: Any) -> str:
    """Two decimals for the table (the JSON and CSV keep every digit)."""
    if value is None:
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return str(number.quantize(Decimal("0.01")))


def _table(result: SweepResult, rows: int) -> None:
    from rich.console import Console
    from rich.table import Table

    metric = result.plan.metric
    names = [a.name for a in result.plan.axes if len(a.values) > 1] or [
        a.name for a in result.plan.axes
    ]
    console = Console()
    for fold in result.folds:
        w = fold.window
        title = (
            f"fold {w.fold}: in-sample {outputs.iso(w.in_start_ms)} .. {outputs.iso(w.in_end_ms)}"
        )
        if w.has_out_of_sample:
            title += f", out-of-sample .. {outputs.iso(w.out_end_ms)}"
        table = Table(title=title)
        table.add_column("#", justify="right")
        for name in names:
            table.add_column(name, justify="right")
        for label in (f"IS {metric}", "IS trades", "IS return %"):
            table.add_column(label, justify="right")
        if w.has_out_of_sample:
            for label in (f"OOS {metric}", "OOS trades", "OOS return %", "OOS max DD %"):
                table.add_column(label, justify="right")
        for i, row in enumerate(fold.ranked[:rows]):
            params = dict(row.params)
            ins = outputs.figures(row.in_sample)
            cells = [str(i + 1), *(params[n] for n in names),
                     _metric(row.in_sample, metric),
                     _cell(ins, "trades"), _cell(ins, "return_pct")]
            if w.has_out_of_sample:
                oos = outputs.figures(row.out_of_sample)
                cells += [_metric(row.out_of_sample, metric) if oos else "",
                          _cell(oos, "trades"), _cell(oos, "return_pct"),
                          _cell(oos, "max_drawdown_pct")]
            table.add_row(*cells)
        console.print(table)


def _metric(outcome: Outcome | None, metric: str) -> str:
    if outcome is None or outcome.summary is None:
        return "" if outcome is None else "error"
    return _short(outcome.summary["metrics"].get(metric))


def _reports(
    result: SweepResult,
    spec: SweepSpec,
    overrides: Callable[[ParamSet], dict[str, Any]],
    data: MarketData,
    out: Path,
    k: int,
) -> list[Path]:
    """Each fold's ``k`` best, run again in full (this process) for the backtest's HTML report:
    over the out-of-sample window when there is one, else the in-sample one."""
    written: list[Path] = []
    if k <= 0:
        return written
    for fold in result.folds:
        w = fold.window
        usable = [r for r in fold.ranked if r.in_sample.summary is not None][:k]
        start, end = (w.out_start_ms, w.out_end_ms) if w.has_out_of_sample else (
            w.in_start_ms, w.in_end_ms)
        window = window_data(data, start, end)
        for rank, row in enumerate(usable, start=1):
            strategy = build(spec.strategy, **overrides(row.params))
            html = to_html(summarize(run(strategy, window, spec.settings)))
            path = out / f"report-fold{w.fold}-rank{rank}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
    return written
