"""The tables of a backtest report, as text cells: built once, drawn by the console (rich) and
the HTML report alike, so both show the same numbers (formatted by :mod:`.formatting`).

In the manner of freqtrade's backtesting summary: results per symbol, per exit reason and per
month, each with a total row, then the run's totals. A trade's return % is its net PnL over its
entry notional (unleveraged); "share of equity %" is its net PnL over the starting equity. Rows
are grouped by the trade's exit (a trade belongs to the month it closed in). The month table's
"equity change %" comes from the equity curve (open positions marked, funding included), so it
is not the sum of the month's closed trades.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from alphadesk.backtest import formatting as fmt
from alphadesk.backtest.result import BacktestResult
from alphadesk.domain.enums import Side
from alphadesk.domain.roundtrips import RoundTrip
from alphadesk.strategies.catalog import show_value, type_name


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    numeric: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[tuple[str, ...]]
    total: tuple[str, ...] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


GROUP_COLUMNS = (
    Column("Trades"),
    Column("Avg return %"),
    Column("Net PnL USDT"),
    Column("Share of equity %"),
    Column("Fees USDT"),
    Column("Funding USDT"),
    Column("Avg holding"),
    Column("Win / Draw / Loss"),
    Column("Win %"),
)


def _group_cells(trips: Sequence[RoundTrip], initial: Decimal) -> tuple[str, ...]:
    n = len(trips)
    net = sum((t.net_pnl for t in trips), Decimal(0))
    wins = sum(1 for t in trips if t.net_pnl > 0)
    losses = sum(1 for t in trips if t.net_pnl < 0)
    draws = n - wins - losses
    avg_ret = sum((t.pnl_pct for t in trips), Decimal(0)) / n if n else None
    avg_hold = Decimal(sum(t.holding_seconds for t in trips)) / n if n else None
    return (
        fmt.count(n),
        fmt.percent(avg_ret),
        fmt.money(net),
        fmt.percent(net / initial * 100 if initial else None),
        fmt.money(sum((t.fees for t in trips), Decimal(0))),
        fmt.money(sum((t.funding for t in trips), Decimal(0))),
        fmt.duration(avg_hold),
        f"{wins} / {draws} / {losses}",
        fmt.percent(Decimal(wins) / n * 100 if n else None),
    )


def _grouped(
    key: str,
    title: str,
    label: str,
    trips: Sequence[RoundTrip],
    group: Callable[[RoundTrip], str],
    initial: Decimal,
    names: Iterable[str] = (),
) -> Table:
    groups: dict[str, list[RoundTrip]] = {name: [] for name in names}
    for trip in trips:
        groups.setdefault(group(trip), []).append(trip)
    rows = [(name, *_group_cells(items, initial)) for name, items in sorted(groups.items())]
    return Table(
        key,
        title,
        (Column(label, numeric=False), *GROUP_COLUMNS),
        rows,
        total=("TOTAL", *_group_cells(trips, initial)),
    )


COST_NOTE = (
    "Return % is net PnL over the entry notional; fees and funding are costs "
    "(funding below 0 was received)."
)


def by_symbol(result: BacktestResult) -> Table:
    table = _grouped(
        "symbols", "Results per symbol", "Symbol", result.trips, lambda t: t.symbol,
        result.metrics.initial_equity, result.output.data.symbols,
    )
    return dataclasses.replace(table, note=COST_NOTE)


def by_exit_reason(result: BacktestResult) -> Table:
    return _grouped(
        "exit_reasons", "Results per exit reason", "Exit reason", result.trips,
        lambda t: t.exit_reason or "(none)", result.metrics.initial_equity,
    )


def by_month(result: BacktestResult) -> Table:
    """Closed trades per exit month, beside the equity curve's change over the month."""
    initial = result.metrics.initial_equity
    groups: dict[str, list[RoundTrip]] = {}
    for trip in result.trips:
        groups.setdefault(fmt.month(_ms(trip.exit_time)), []).append(trip)
    # the curve's first point is the start; the others are bar closes, and a close at 00:00 on
    # the 1st is the previous month's end
    times, equity = result.times_ms[1:] - 1, result.equity[1:]
    months = times.astype("datetime64[ms]").astype("datetime64[M]")
    last = np.flatnonzero(np.append(months[1:] != months[:-1], True))  # each month's last point
    month_end = {str(months[i]): float(equity[i]) for i in last}
    rows = []
    before = float(initial)
    for label in sorted(set(month_end) | set(groups)):
        end = month_end.get(label, before)
        trips = groups.get(label, [])
        cells = _group_cells(trips, initial)
        change = (end / before - 1) * 100 if before else None
        rows.append((label, cells[0], cells[2], cells[4], cells[5], cells[7],
                     fmt.money(end), fmt.percent(change)))
        before = end
    all_cells = _group_cells(result.trips, initial)
    final = float(equity[-1]) if len(equity) else float(initial)
    total = ("TOTAL", all_cells[0], all_cells[2], all_cells[4], all_cells[5], all_cells[7],
             fmt.money(final), fmt.percent((final / float(initial) - 1) * 100 if initial else None))
    columns = (
        Column("Month", numeric=False), Column("Trades"), Column("Net PnL USDT"),
        Column("Fees USDT"), Column("Funding USDT"), Column("Win / Draw / Loss"),
        Column("Equity at end USDT"), Column("Equity change %"),
    )
    return Table("months", "Results per month (UTC, by exit)", columns, rows, total=total)


def summary(result: BacktestResult) -> Table:
    """The run's totals, one metric a row, each with its unit."""
    out = result.output
    m = result.metrics
    t = m.trades
    dd = m.drawdown
    data = out.data
    usdt = " USDT"
    rows: list[tuple[str, str]] = [
        ("Strategy", out.strategy.name),
        ("Period (UTC)", f"{fmt.timestamp(int(data.timeline[0]))} to "
                         f"{fmt.timestamp(int(data.close_times[-1]))}"),
        ("Bars", f"{fmt.count(result.bars)} ({data.interval_min} min, {len(data.symbols)} "
                 f"symbol{'' if len(data.symbols) == 1 else 's'})"),
        ("Starting equity", fmt.money(m.initial_equity) + usdt),
        ("Final equity", fmt.money(m.final_equity) + usdt),
        ("Net PnL (equity, open positions marked)", fmt.money(m.net_pnl) + usdt),
        ("Total return", fmt.percent(m.return_pct) + " %"),
        ("CAGR", fmt.fraction_pct(m.cagr) + " %"),
        ("Trades (closed)", fmt.count(t.count)),
        ("Net PnL of closed trades", fmt.money(t.net_pnl) + usdt),
        ("Win / loss", f"{t.wins} / {t.losses}"),
        ("Win rate", fmt.fraction_pct(t.win_rate) + " %" if t.count else fmt.MISSING),
        ("Profit factor", fmt.ratio(t.profit_factor)),
        ("Expectancy per trade", fmt.money(t.expectancy) + usdt if t.count else fmt.MISSING),
        ("Average win", fmt.money(t.avg_win) + usdt if t.wins else fmt.MISSING),
        ("Average loss", fmt.money(t.avg_loss) + usdt if t.losses else fmt.MISSING),
        ("Best trade", fmt.money(t.best) + usdt if t.count else fmt.MISSING),
        ("Worst trade", fmt.money(t.worst) + usdt if t.count else fmt.MISSING),
        ("Average holding time", fmt.duration(t.avg_holding_seconds) if t.count else fmt.MISSING),
        ("Fees (all fills, open positions too)", fmt.money(m.costs.fees) + usdt),
        ("Funding, paid > 0 (all fills)", fmt.money(m.costs.funding) + usdt),
        ("Traded notional", fmt.money(m.costs.traded_notional) + usdt),
        ("Max drawdown", fmt.fraction_pct(dd.max_pct) + " %"),
        ("Max drawdown amount", fmt.money(dd.max_amount) + usdt),
        ("Drawdown peak / trough", f"{fmt.timestamp(dd.peak_ms)} / {fmt.timestamp(dd.trough_ms)}"),
        ("Longest drawdown", fmt.duration(dd.max_duration_ms / 1000)),
        ("Sharpe (daily, annualised)", fmt.ratio(m.sharpe)),
        ("Sortino (daily, annualised)", fmt.ratio(m.sortino)),
        ("Calmar", fmt.ratio(m.calmar)),
        ("Time in market", fmt.fraction_pct(m.exposure) + " %"),
    ]
    return Table(
        "summary", "Summary", (Column("Metric", numeric=False), Column("Value", numeric=False)),
        list(rows),
    )


def refusals(result: BacktestResult) -> Table | None:
    """Intents the risk gate or the venue turned away, grouped as the JSON's ``refusals`` counts
    them (kind and the reason up to its first colon), each group with its first time, symbol and
    full reason; None when there were none. A run whose every entry was refused (bars before
    the fills' 2018 bound, say) would otherwise print a report of zero trades and no why."""
    groups: dict[str, list[Any]] = {}
    for r in result.output.refusals:
        key = f"{r.kind}: {r.reason.split(':')[0]}"
        if key in groups:
            groups[key][0] += 1
        else:
            groups[key] = [1, r]
    if not groups:
        return None
    rows = [
        (first.kind, key.split(": ", 1)[1], fmt.count(n), fmt.timestamp(first.time_ms),
         first.symbol, first.reason)
        for key, (n, first) in groups.items()
    ]
    total = sum(n for n, _ in groups.values())
    return Table(
        "refusals", "Refused orders",
        (Column("Kind", numeric=False), Column("Cause", numeric=False), Column("Count"),
         Column("First (UTC)", numeric=False), Column("Symbol", numeric=False),
         Column("First reason in full", numeric=False)),
        rows, ("TOTAL", "", fmt.count(total), "", "", ""),
        "The run went on without these orders; the JSON's refusals counts the same groups.",
    )


SETTING_LABELS = {
    "initial_equity": ("Starting equity", " USDT"),
    "taker_fee": ("Taker fee", ""),
    "maker_fee": ("Maker fee", ""),
    "slippage_bps": ("Slippage", " bps"),
    "funding_rate": ("Funding rate per settlement (constant fallback)", ""),
}


def settings(settings_dict: dict[str, Any]) -> Table:
    """The run's settings as stored in the JSON, labelled; a key this module does not know is
    shown under its own name, so a new setting is never hidden."""
    rows: list[tuple[str, str]] = []

    def add(key: str, value: Any, prefix: str = "") -> None:
        if isinstance(value, dict):  # a nested group: one row per entry, named by the path
            for sub, inner in value.items():
                add(sub, inner, f"{prefix}{key.replace('_', ' ')}: ")
            return
        label, unit = SETTING_LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
        if prefix:
            label, unit = prefix + key.replace("_", " "), ""
        shown = show_value(tuple(value)) if isinstance(value, list) else str(value)
        rows.append((label[0].upper() + label[1:], f"{shown}{unit}"))

    for key, value in settings_dict.items():
        add(key, value)
    return Table("settings", "Settings", (Column("Setting", False), Column("Value", False)), rows)


def parameters(result: BacktestResult) -> Table:
    """Each strategy parameter with its value, type and default; changed ones are marked."""
    params = result.output.strategy.params
    hints = typing.get_type_hints(type(params))
    defaults = type(params)()
    rows = []
    for f in dataclasses.fields(params):
        value, default = getattr(params, f.name), getattr(defaults, f.name)
        rows.append((
            f.name,
            show_value(value),
            type_name(hints.get(f.name)),
            show_value(default),
            "changed" if value != default else "",
        ))
    columns = (Column("Parameter", False), Column("Value", False), Column("Type", False),
               Column("Default", False), Column("", False))
    return Table("parameters", "Strategy parameters", columns, rows)


TRADE_COLUMNS = (
    Column("#"), Column("Symbol", False), Column("Side", False), Column("Qty"),
    Column("Entry (UTC)", False), Column("Entry price"), Column("Exit (UTC)", False),
    Column("Exit price"), Column("Gross USDT"), Column("Fees USDT"), Column("Funding USDT"),
    Column("Net USDT"), Column("Return %"), Column("Holding"), Column("Entry reason", False),
    Column("Exit reason", False),
)


def trades(result: BacktestResult, limit: int | None = None) -> Table:
    chosen = result.trips if limit is None else result.trips[:limit]
    rows = [
        (
            str(i),
            t.symbol,
            "long" if t.entry_side is Side.BUY else "short",
            fmt.exact(t.qty),
            fmt.timestamp(_ms(t.entry_time)),
            fmt.exact(t.entry_price),
            fmt.timestamp(_ms(t.exit_time)),
            fmt.exact(t.exit_price),
            fmt.money(t.gross_pnl),
            fmt.money(t.fees),
            fmt.money(t.funding),
            fmt.money(t.net_pnl),
            fmt.percent(t.pnl_pct),
            fmt.duration(t.holding_seconds),
            t.entry_reason,
            t.exit_reason,
        )
        for i, t in enumerate(chosen, start=1)
    ]
    more = len(result.trips) - len(chosen)
    note = f"{more} more trades are in the JSON output." if more > 0 else ""
    return Table("trades", f"Trades ({len(result.trips)})", TRADE_COLUMNS, rows, note=note)
