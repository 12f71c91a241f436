"""Funding settles on each symbol's own interval: a 4-hourly rate history is charged six times a
day at its own times and rates, an 8-hourly one three times; a symbol's instrument interval
decides where there is no history; the summary names the interval.

The candles and rates here are test values (hourly bars whose opens climb by 1 from 100, rates
cycling through six chosen values), so every funding amount can be computed by hand.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from alphadesk.backtest.data import load
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import NotionalSize
from alphadesk.strategies.api import Row, Strategy, StrategyContext
from alphadesk.strategies.specs import IndicatorSpec

D = Decimal
SYMBOL = "FUNDUSDT"
HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
DAY1 = T0 + 24 * HOUR
RATES = ("0.0001", "-0.00005", "0.00025", "0.0003", "-0.0002", "0.00015")
RULES = Instrument(SYMBOL, D("0.1"), D(1), D(1))  # no funding interval: unknown


@dataclass(frozen=True, slots=True)
class HoldParams:
    symbols: tuple[str, ...] = (SYMBOL,)


class BuyAndHold(Strategy[HoldParams]):
    """Buys 10 units (1,000 USDT at the reference 100) at the first close and holds them."""

    name = "buy_and_hold_test"
    timeframe_min = 60
    params_type = HoldParams

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {}

    def wake_bars(
        self, symbol: str, columns: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Woken on the first bar only: the loop must still walk every settlement bar."""
        flat = np.zeros(len(columns["close"]), dtype=bool)
        flat[0] = True
        return flat, np.zeros_like(flat)

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        if ctx.portfolio.position(bar.symbol) is None:
            ctx.enter(bar.symbol, Side.BUY, NotionalSize(usdt=D(1000)), "hold", ref_price=D(100))


def write(path: Path, table: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(table)
    return path


def candles(folder: Path) -> Path:
    """72 hourly bars from T0: bar h opens at 100 + h and closes at the next bar's open."""
    table = [["ts_ms", "open", "high", "low", "close", "volume"]]
    for h in range(72):
        o = 100 + h
        table.append([str(T0 + h * HOUR), str(o), str(o + 1.5), str(o - 0.5), str(o + 1), "10"])
    return write(folder / f"{SYMBOL}_1h_test.csv", table)


def history(folder: Path, every_h: int) -> None:
    """Settlements every ``every_h`` hours from T0 to T0 + 72 h, rates cycling through RATES."""
    table = [["ts_ms", "funding_rate"]]
    for i, t in enumerate(range(T0, T0 + 72 * HOUR + 1, every_h * HOUR)):
        table.append([str(t), RATES[i % len(RATES)]])
    write(folder / f"{SYMBOL}_{every_h}h_funding_test.csv", table)


def backtest(folder: Path, rules: Instrument = RULES, *, every_bar: bool = False) -> RunOutput:
    settings = BacktestSettings(instruments={SYMBOL: rules}, skip_quiet_bars=not every_bar)
    return run(BuyAndHold(), load([candles(folder)]), settings)


def funding(output: RunOutput) -> list[Fill]:
    return [f for f in output.fills if f.exec_type is ExecType.FUNDING]


def on_day1(fills: list[Fill]) -> list[tuple[int, Decimal]]:
    return [
        ((to_epoch_ms(f.exec_time) - DAY1) // HOUR, f.fee)
        for f in fills
        if DAY1 <= to_epoch_ms(f.exec_time) < DAY1 + 24 * HOUR
    ]


def test_a_four_hourly_history_settles_six_times_a_day_at_its_rates(tmp_path: Path) -> None:
    history(tmp_path, 4)
    output = backtest(tmp_path)
    [entry] = [f for f in output.fills if f.exec_type is ExecType.TRADE]
    assert (entry.qty, entry.price, to_epoch_ms(entry.exec_time)) == (D(10), D(101), T0 + HOUR)
    # Day 1 settles at 00, 04, ..., 20 h: history rows 6..11, rates RATES[0..5]; the mark is the
    # open of the bar starting there (100 + hours since T0); fee = 10 x mark x rate.
    assert on_day1(funding(output)) == [
        (0, D("0.124")),  # 10 x 124 x 0.0001
        (4, D("-0.064")),  # 10 x 128 x -0.00005
        (8, D("0.33")),  # 10 x 132 x 0.00025
        (12, D("0.408")),  # 10 x 136 x 0.0003
        (16, D("-0.28")),  # 10 x 140 x -0.0002
        (20, D("0.216")),  # 10 x 144 x 0.00015
    ]
    paid = funding(output)
    # held from 01:00 on day 0 to the last bar (71 h): settlements at 4, 8, ..., 68 h
    assert [(to_epoch_ms(f.exec_time) - T0) // HOUR for f in paid] == list(range(4, 72, 4))
    expected = sum(
        (D(10) * D(100 + h) * D(RATES[(h // 4) % 6]) for h in range(4, 72, 4)), D(0)
    )
    assert sum((f.fee for f in paid), D(0)) == expected == D("2.102")
    assert output.funding_sources[SYMBOL] == (
        "history: 18 settlements in the period from FUNDUSDT_4h_funding_test.csv "
        "(every 4 h, the history's spacing)"
    )
    # the loop that skips quiet bars walks every settlement bar: the same as visiting them all
    full = backtest(tmp_path, every_bar=True)
    assert [(f.exec_time, f.fee) for f in funding(full)] == [(f.exec_time, f.fee) for f in paid]
    assert full.final_equity == output.final_equity


def test_an_eight_hourly_history_settles_three_times_a_day(tmp_path: Path) -> None:
    history(tmp_path, 8)
    output = backtest(tmp_path)
    # day 1 is history rows 3, 4, 5 (00, 08, 16 h): rates RATES[3..5]
    assert on_day1(funding(output)) == [
        (0, D("0.372")),  # 10 x 124 x 0.0003
        (8, D("-0.264")),  # 10 x 132 x -0.0002
        (16, D("0.21")),  # 10 x 140 x 0.00015
    ]
    assert output.funding_sources[SYMBOL].endswith("(every 8 h, the history's spacing)")


def test_inside_the_history_its_times_rule_and_outside_the_instrument_interval(
    tmp_path: Path,
) -> None:
    """Bybit's rules say 8 h, the recorded settlements were 4-hourly until T0 + 24 h: they are
    charged as recorded, and after them the 8-hour grid pays the constant fallback."""
    table = [["ts_ms", "funding_rate"]] + [
        [str(t), "0.0002"] for t in range(T0, DAY1 + 1, 4 * HOUR)
    ]
    write(tmp_path / f"{SYMBOL}_funding_test.csv", table)
    eight = Instrument(SYMBOL, D("0.1"), D(1), D(1), funding_interval_min=480)
    output = backtest(tmp_path, eight)
    times = [(to_epoch_ms(f.exec_time) - T0) // HOUR for f in funding(output)]
    assert times == [4, 8, 12, 16, 20, 24, 32, 40, 48, 56, 64]
    rates = [f.fee / (f.qty * f.price) for f in funding(output)]
    assert rates == [D("0.0002")] * 6 + [D("0.0001")] * 5
    assert output.funding_sources[SYMBOL] == (
        "history: 6 settlements in the period from FUNDUSDT_funding_test.csv "
        "(every 8 h, Bybit's instrument interval); outside it the constant 0.0001 per 8 h "
        "(fallback)"
    )


@pytest.mark.parametrize(("minutes", "per_day"), [(240, 6), (480, 3), (None, 3)])
def test_without_history_the_instrument_interval_pays_the_constant(
    tmp_path: Path, minutes: int | None, per_day: int
) -> None:
    rules = Instrument(SYMBOL, D("0.1"), D(1), D(1), funding_interval_min=minutes)
    output = backtest(tmp_path, rules)
    day1 = on_day1(funding(output))
    assert len(day1) == per_day
    assert [h for h, _ in day1] == list(range(0, 24, 24 // per_day))
    assert all(fee == D(10) * D(124 + h) * D("0.0001") for h, fee in day1)
    label = {240: "4 h", 480: "8 h", None: "8 h"}[minutes]
    assert output.funding_sources[SYMBOL] == f"constant 0.0001 per {label} (fallback)"
