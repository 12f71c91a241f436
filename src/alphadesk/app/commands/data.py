"""``alphadesk data``: market data of one's own, in a folder every part of the desk reads.

``download`` fetches candles (any Bybit interval), funding-rate history and instrument rules from
Bybit's public REST (no key; ``--base-url``/``BYBIT_BASE_URL`` may point at the local simulator)
for the symbols and period given, only what the folder lacks, with a progress bar; ``list`` shows
what is stored (symbol, interval, bars, first/last bar, gaps); ``import`` adds a CSV
(``ts_ms,open,high,low,close,volume`` or ``ts_ms,funding_rate``) as Parquet. The folder is
``--data-dir``, else ``ALPHADESK_DATA_DIR``, else ``./data/market``; ``alphadesk backtest --data``,
``simulator --data`` and ``bot --data`` take its files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphadesk.app.commands import checks
from alphadesk.app.logging import HUMAN
from alphadesk.app.settings import SettingsError

DEFAULT_DATA_DIR = Path("data") / "market"
_UNITS = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_CODES = {"D": 1440, "W": 10080}


def data_dir(flag: Path | None, env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    if flag is not None:
        return flag
    raw = env.get("ALPHADESK_DATA_DIR", "").strip()
    return Path(raw) if raw else DEFAULT_DATA_DIR


def parse_interval(text: str) -> int:
    """``5m``, ``4h``, ``1d``, ``1w`` or Bybit's own codes (``5``, ``240``, ``D``, ``W``)."""
    from alphadesk.adapters.bybit.parse_market import interval_code

    raw = text.strip()
    if raw.endswith("M"):  # Bybit's month: no fixed length, no grid to check or resample on
        raise argparse.ArgumentTypeError(f"--interval {text!r}: monthly bars are not supported")
    if raw.upper() in _CODES:
        minutes = _CODES[raw.upper()]
    elif raw.isdigit():
        minutes = int(raw)
    elif len(raw) > 1 and raw[:-1].isdigit() and raw[-1].lower() in _UNITS:
        minutes = int(raw[:-1]) * _UNITS[raw[-1].lower()]
    else:
        raise argparse.ArgumentTypeError(f"--interval {text!r}: expected e.g. 5m, 4h, 1d, 240, D")
    try:
        interval_code(minutes)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--interval {text!r}: {exc}") from None
    return minutes




def _symbol(text: str) -> str:
    symbol = text.strip().upper()
    if not symbol.isalnum():
        raise argparse.ArgumentTypeError(f"--symbols {text!r}: letters and digits only")
    return symbol


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data", help="download, list and import market data (candles, funding, instruments)"
    )
    sub = parser.add_subparsers(dest="data_command", required=True)
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--data-dir", type=Path, default=None,
                        help=f"the data folder (default $ALPHADESK_DATA_DIR or {DEFAULT_DATA_DIR})")

    dl = sub.add_parser("download", parents=[folder],
                        help="fetch what the folder lacks from Bybit's public REST")
    dl.add_argument("--symbols", nargs="+", required=True, type=_symbol, metavar="SYMBOL")
    dl.add_argument("--interval", nargs="+", type=parse_interval, default=[5], metavar="5m|4h|..",
                    help="one or more Bybit intervals (default 5m)")
    dl.add_argument("--from", dest="start", type=checks.time_ms, required=True,
                    help="UTC date/time or epoch ms")
    dl.add_argument("--to", dest="end", type=checks.time_ms, default=None,
                    help="UTC date/time or epoch ms (default now)")
    dl.add_argument("--no-funding", action="store_true", help="skip the funding-rate history")
    dl.add_argument("--no-instruments", action="store_true", help="skip the instrument rules")
    dl.add_argument("--base-url", default=None,
                    help="another Bybit endpoint (default $BYBIT_BASE_URL, else Bybit's own)")
    dl.add_argument("--progress", action="store_true", help="progress bar even when not a TTY")
    dl.set_defaults(handler=handle_download, log_format=HUMAN)

    ls = sub.add_parser("list", parents=[folder], help="what the folder holds, with its gaps")
    ls.set_defaults(handler=handle_list, log_format=HUMAN)

    im = sub.add_parser("import", parents=[folder], help="add CSV candles or funding as Parquet")
    im.add_argument("files", nargs="+", type=Path, metavar="CSV")
    im.add_argument("--symbol", type=_symbol, default=None,
                    help="the symbol when the file name does not start with it")
    im.set_defaults(handler=handle_import, log_format=HUMAN)


# -- download ------------------------------------------------------------------------------------


def handle_download(args: argparse.Namespace) -> int:
    from alphadesk.app import settings as desk_settings

    config = desk_settings.load()
    end = args.end if args.end is not None else int(datetime.now(UTC).timestamp() * 1000)
    if args.start >= end:
        raise SettingsError(f"--from/--to {args.start}..{end}: --from must be before --to")
    base_url = args.base_url or config.bybit_base_url
    if base_url is not None:
        from alphadesk.adapters.bybit.config import check_base_url
        from alphadesk.domain.errors import InvalidField

        try:
            check_base_url("--base-url", base_url)
        except InvalidField as exc:
            raise SettingsError(str(exc)) from None
    folder = data_dir(args.data_dir)
    return asyncio.run(_download(args, folder, base_url, end))


async def _download(args: argparse.Namespace, folder: Path, base_url: str | None,
                    end: int) -> int:
    from alphadesk.adapters.bybit.config import AccountConfig, Environment
    from alphadesk.adapters.bybit.errors import BybitError
    from alphadesk.adapters.bybit.rest import BybitRest
    from alphadesk.adapters.market_store.download import Downloader, Fetched
    from alphadesk.app.data_progress import DownloadDisplay

    rest = BybitRest(AccountConfig.public("data", environment=Environment.LIVE,
                                          base_url=base_url))
    results: list[Fetched] = []
    try:
        await rest.sync_clock()
        with DownloadDisplay(force_bar=args.progress) as display:
            loader = Downloader(rest, folder, display)
            if not args.no_instruments:
                results.append(await loader.instruments(list(args.symbols)))
            for symbol in args.symbols:
                for minutes in args.interval:
                    results.append(await loader.candles(symbol, minutes, args.start, end))
                if not args.no_funding:
                    results.append(await loader.funding(symbol, args.start, end))
    except (BybitError, LookupError) as exc:
        print(f"data download: {exc}", file=sys.stderr)
        return 1
    finally:
        await rest.close()
    print(f"data folder {folder}: {rest.stats.calls} requests, "
          f"{rest.stats.gate_waits} rate-limit waits, {rest.stats.rate_limited} 10006 back-offs")
    for r in results:
        print(f"  {r.task:<24} +{r.added:<7} stored {r.stored:<8} {r.path.name}")
        if r.note:
            print(f"  {'':<24} note: {r.note}")
    return 0


# -- list ----------------------------------------------------------------------------------------


def handle_list(args: argparse.Namespace) -> int:
    from alphadesk.adapters.market_store.inventory import inventory

    folder = data_dir(args.data_dir)
    if not folder.is_dir():
        print(f"data folder {folder}: does not exist (alphadesk data download fills it)")
        return 0
    rows = inventory(folder)
    _print_table(
        ["file", "symbol", "kind", "rows", "first", "last", "gaps"],
        [[r.file, r.symbol, r.kind, f"{r.rows:,}", r.first, r.last, r.gaps] for r in rows],
    )
    return 0


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*header, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    Console(width=200, soft_wrap=True).print(table)


# -- import --------------------------------------------------------------------------------------


def handle_import(args: argparse.Namespace) -> int:
    from alphadesk.adapters.market_store.importer import import_csv
    from alphadesk.domain.errors import InvalidField

    folder = data_dir(args.data_dir)
    for path in args.files:
        if not path.is_file():
            raise SettingsError(f"import {str(path)!r}: file not found")
    for path in args.files:
        try:
            stored = import_csv(path, folder, args.symbol)
        except InvalidField as exc:
            print(f"data import: {exc}", file=sys.stderr)
            return 2
        print(f"{path.name}: {stored.added} rows into {stored.path} ({stored.stored} stored)")
    return 0
