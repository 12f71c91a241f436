"""Candles for a backtest: several files, cut to a period, aligned on one timeline.

Each symbol keeps its own arrays (a strategy's indicators run on its own bars); the timeline is
the sorted union of bar open times, and ``index[s][k]`` says which of symbol ``s``'s bars opens at
timeline step ``k`` (-1 when it has none), so symbols with gaps or different histories still line
up by time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from alphadesk.adapters.sim.feed import BarArrays, load_csv
from alphadesk.domain.errors import InvalidField

IntArray = npt.NDArray[np.int64]

#: The field a bad period is reported under; a command names its own flags instead.
PERIOD = "period"


def cut(bars: BarArrays, start_ms: int | None, end_ms: int | None) -> BarArrays:
    """Bars whose open time is in [start_ms, end_ms)."""
    lo = 0 if start_ms is None else int(np.searchsorted(bars.ts_ms, start_ms, side="left"))
    hi = len(bars) if end_ms is None else int(np.searchsorted(bars.ts_ms, end_ms, side="left"))
    return BarArrays(
        bars.symbol,
        bars.interval_min,
        bars.ts_ms[lo:hi],
        bars.open[lo:hi],
        bars.high[lo:hi],
        bars.low[lo:hi],
        bars.close[lo:hi],
        bars.volume[lo:hi],
    )


@dataclass(frozen=True, slots=True)
class MarketData:
    series: dict[str, BarArrays]
    timeline: IntArray
    """Union of open times, sorted."""
    index: dict[str, IntArray]
    interval_min: int

    @property
    def symbols(self) -> list[str]:
        return sorted(self.series)

    @property
    def bar_count(self) -> int:
        return sum(len(b) for b in self.series.values())

    @property
    def close_times(self) -> IntArray:
        out: IntArray = self.timeline + self.interval_min * 60_000
        return out

    def select(self, symbols: Sequence[str]) -> MarketData:
        missing = sorted(set(symbols) - set(self.series))
        if missing:
            raise InvalidField("symbols", missing, f"no data; files give {self.symbols}")
        return align([self.series[s] for s in symbols])


def align(series: Sequence[BarArrays]) -> MarketData:
    if not series:
        raise InvalidField("data", [], "needs at least one candle file")
    by_symbol: dict[str, BarArrays] = {}
    for bars in series:
        if bars.symbol in by_symbol:
            raise InvalidField("data", bars.symbol, "given twice")
        by_symbol[bars.symbol] = bars
    intervals = {b.interval_min for b in series}
    if len(intervals) != 1:
        raise InvalidField("data", sorted(intervals), "files must share one bar interval")
    timeline = np.unique(np.concatenate([b.ts_ms for b in series])).astype(np.int64)
    index: dict[str, IntArray] = {}
    for symbol, bars in by_symbol.items():
        slots = np.full(len(timeline), -1, dtype=np.int64)
        slots[np.searchsorted(timeline, bars.ts_ms)] = np.arange(len(bars), dtype=np.int64)
        index[symbol] = slots
    return MarketData(by_symbol, timeline, index, intervals.pop())


def load(
    paths: Sequence[str | Path], start_ms: int | None = None, end_ms: int | None = None
) -> MarketData:
    """Read candle CSVs (symbol and interval from each file name) and align them.

    A period that is empty or leaves a file with no bars is refused (field :data:`PERIOD`),
    naming what the file covers; an empty series would otherwise fail deep inside a run.
    """
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidField(PERIOD, _span(start_ms, end_ms), "the start must be before the end")
    series = []
    for path in paths:
        whole = load_csv(path)
        bars = cut(whole, start_ms, end_ms)
        if not len(bars):
            covers = (
                _span(int(whole.ts_ms[0]), int(whole.ts_ms[-1]) + whole.interval_min * 60_000)
                if len(whole) else "nothing"
            )
            raise InvalidField(
                PERIOD, _span(start_ms, end_ms),
                f"holds no {whole.symbol} bars (the file covers {covers})",
            )
        series.append(bars)
    return align(series)


def _span(start_ms: int | None, end_ms: int | None) -> str:
    def show(ms: int | None) -> str:
        if ms is None:
            return ""
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")

    return f"{show(start_ms)}..{show(end_ms)}"
