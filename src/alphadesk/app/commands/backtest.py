"""``alphadesk backtest``: run a strategy over candle files; print a summary, write JSON/HTML."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from alphadesk.app.commands import checks
from alphadesk.app.logging import HUMAN
from alphadesk.app.settings import SettingsError
from alphadesk.backtest import build
from alphadesk.backtest.console import print_report
from alphadesk.backtest.data import PERIOD, for_strategy, load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import summarize, to_json
from alphadesk.backtest.runner import Progress, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies.catalog import infos, instantiate, parse_overrides, render, resolve


class _HelpWithStrategies(argparse.Action):
    """``-h``: the flags, then every strategy with its parameters. Built only when asked, so
    installed strategy packages are not imported by every other command."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.epilog = "strategies (--strategy NAME, --param k=v):\n\n" + render(infos(STRATEGIES))
        parser.print_help()
        parser.exit()


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="run a strategy over historical candles",
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-h", "--help", action=_HelpWithStrategies, help="show this help and exit")
    p.add_argument(
        "--strategy",
        required=True,
        metavar="NAME|FILE.py:Class",
        help="a built-in or installed strategy (`alphadesk strategies` lists them), "
        "or a class in a file of your own",
    )
    p.add_argument("--data", required=True, nargs="+", type=Path, metavar="FILE|FOLDER",
                   help="candle files (CSV or Parquet), or data folders (e.g. the one `alphadesk "
                   "data download` fills): from a folder, one file per symbol at the strategy's "
                   "timeframe or the coarsest finer one")
    p.add_argument("--from", dest="start", type=checks.time_ms, help="UTC date/time or epoch ms")
    p.add_argument("--to", dest="end", type=checks.time_ms, help="UTC date/time or epoch ms")
    p.add_argument("--json", dest="json_out", type=Path, metavar="OUT",
                   help="write the result as JSON (byte-identical for identical runs)")
    p.add_argument("--report", type=Path, metavar="OUT.html",
                   help="write a self-contained HTML report (charts, tables, trades)")
    p.add_argument("--param", action="append", type=checks.param, default=[], metavar="k=v",
                   help="a strategy parameter (repeatable; the list below gives names and types)")
    p.add_argument("--fees", default="0.00055,0.0002", metavar="taker,maker",
                   help="fee rates as fractions (default: Bybit's 0.00055,0.0002)")
    p.add_argument("--slippage-bps", type=checks.decimal, default=Decimal(0),
                   help="market orders fill this many basis points worse (default 0)")
    p.add_argument("--funding-rate", type=checks.decimal, default=Decimal("0.0001"),
                   help="the constant rate per settlement (each symbol's interval, 8 h unless its "
                   "rules or history say otherwise), the fallback for symbols with no history "
                   "(funding files beside the candles: *funding*.csv|parquet)")
    p.add_argument("--no-funding-history", action="store_true",
                   help="charge the constant --funding-rate even where a history is present")
    p.add_argument("--strict", action="store_true",
                   help="refuse candles with repeated bars or gaps (default: warn)")
    p.add_argument("--equity", type=checks.decimal, default=Decimal(10_000),
                   help="starting equity in USDT (default 10000)")
    p.add_argument("--progress", action="store_true", help="progress bar even when not a TTY")
    p.set_defaults(handler=handle, log_format=HUMAN)


def _progress_bar() -> tuple[Progress, Any]:
    from rich.progress import Progress as RichProgress

    bar = RichProgress(transient=True, console=_stderr_console())
    task = bar.add_task("backtest", total=1)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _check_args(args: argparse.Namespace) -> None:
    """Everything the flags can get wrong, before the candles are read or a bar is run."""
    checks.input_files("--data", args.data, folders=True)
    checks.output_file("--json", args.json_out)
    checks.output_file("--report", args.report)
    checks.positive("--equity", args.equity)
    checks.positive("--slippage-bps", args.slippage_bps, zero_ok=True)
    if args.start is not None and args.end is not None and args.start >= args.end:
        span = f"{_iso(args.start)}..{_iso(args.end)}"
        raise SettingsError(f"--from/--to {span}: --from must be before --to")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def handle(args: argparse.Namespace) -> int:
    try:
        taker, maker = (Decimal(x) for x in args.fees.split(","))
    except (ValueError, InvalidOperation):
        print(f"--fees {args.fees!r}: expected taker,maker", file=sys.stderr)
        return 2
    _check_args(args)
    try:
        cls = resolve(args.strategy, STRATEGIES)
        strategy = instantiate(cls, parse_overrides(cls, args.param))
        files = checks.candle_files("--data", args.data, strategy.timeframe_min)
        settings = BacktestSettings(
            initial_equity=args.equity,
            taker_fee=taker,
            maker_fee=maker,
            slippage_bps=args.slippage_bps,
            funding_rate=args.funding_rate,
            funding_history=not args.no_funding_history,
        )
        data = for_strategy(
            load(files, args.start, args.end, strict=args.strict,
                 funding=not args.no_funding_history),
            strategy,
        )
    except InvalidField as exc:
        if exc.field == PERIOD:
            print(f"backtest: --from/--to {exc.value}: {exc.reason}", file=sys.stderr)
        else:
            print(f"backtest: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    for note in data.notes:
        print(f"backtest: note: {note}", file=sys.stderr)
    print(f"backtest: build: {build.described()}", file=sys.stderr)
    show = args.progress or sys.stderr.isatty()
    progress, bar = _progress_bar() if show else (None, None)
    try:
        output = run(strategy, data, settings, progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    result = summarize(output)
    if args.json_out:
        args.json_out.write_text(to_json(result), encoding="utf-8")
    if args.report:
        args.report.write_text(to_html(result), encoding="utf-8")
    print_report(result)
    for symbol, source in sorted(output.funding_sources.items()):
        print(f"  funding {symbol}: {source}")
    return 0
