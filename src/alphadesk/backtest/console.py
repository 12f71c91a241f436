"""The backtest's console summary: the report's tables (:mod:`.tables`) drawn with rich.

Numbers are the very strings the HTML report shows. Off a terminal (a pipe, a CI log) rich draws
the tables without colour, at a width wide enough for the widest table, so a log
holds whole rows instead of wrapped cells.
"""

from __future__ import annotations

from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from alphadesk.backtest import tables
from alphadesk.backtest.result import BacktestResult, to_dict

PLAIN_WIDTH = 200
CONSOLE_TRADE_ROWS = 0
"""The console leaves the trade list to the HTML report and the JSON."""


def _rich(table: tables.Table) -> RichTable:
    out = RichTable(
        title=table.title, box=box.SIMPLE_HEAVY, title_justify="left",
        caption=table.note or None, caption_justify="left",
    )
    for column in table.columns:
        out.add_column(column.title, justify="right" if column.numeric else "left", no_wrap=True)
    for row in table.rows:
        out.add_row(*row)
    if table.total is not None:
        out.add_section()
        out.add_row(*table.total, style="bold")
    return out


def report_tables(result: BacktestResult) -> list[tables.Table]:
    """The console's tables, in the order freqtrade users know."""
    refused = tables.refusals(result)
    return [
        tables.by_symbol(result),
        tables.by_exit_reason(result),
        tables.by_month(result),
        tables.summary(result),
        *([refused] if refused is not None else []),
    ]


def print_report(result: BacktestResult, file: IO[str] | None = None) -> None:
    console = Console(file=file, width=None if _is_terminal(file) else PLAIN_WIDTH, highlight=False)
    params = tables.parameters(result)
    changed = [f"{row[0]}={row[1]}" for row in params.rows if row[4]]
    settings = to_dict(result)["settings"]
    console.print(
        f"[bold]{result.output.strategy.name}[/bold] backtest, "
        f"params: {', '.join(changed) if changed else 'defaults'}; "
        + ", ".join(f"{r[0].lower()} {r[1]}" for r in tables.settings(settings).rows)
    )
    for table in report_tables(result):
        console.print(_rich(table))


def _is_terminal(file: IO[str] | None) -> bool:
    target = file
    if target is None:
        import sys

        target = sys.stdout
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())
