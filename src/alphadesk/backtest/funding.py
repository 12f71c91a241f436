"""A backtest's funding: each symbol's recorded rates handed to the venue, the bars it settles on,
and one line per symbol saying what it was charged and on which interval.

The matching engine decides each symbol's schedule (its instrument's ``fundingInterval``, else the
recorded history's spacing, else 8 hours; the recorded times inside the history's span); this
module only reads it, so the loop wakes on the bars the engine settles on and the summary names
the interval the engine used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.funding import hours
from alphadesk.adapters.sim.funding_desk import DEFAULT, HISTORY, INSTRUMENT
from alphadesk.backtest.data import MarketData
from alphadesk.backtest.settings import BacktestSettings

_SOURCE = {
    INSTRUMENT: "Bybit's instrument interval",
    HISTORY: "the history's spacing",
    DEFAULT: "the default interval",
}


def give_rates(sim: MatchingEngine, data: MarketData, settings: BacktestSettings) -> dict[str, str]:
    """Give the venue each symbol's recorded rates; say what each symbol is charged."""
    out: dict[str, str] = {}
    start, end = int(data.timeline[0]), int(data.close_times[-1])
    for symbol in data.symbols:
        history = data.funding.get(symbol) if settings.funding_history else None
        if history is not None and len(history):
            sim.set_funding_history(symbol, history.as_map())
        interval = sim.funding_interval_ms(symbol)
        fallback = f"constant {settings.funding_rate} per {hours(interval)} (fallback)"
        if history is None or not len(history):
            out[symbol] = fallback
            continue
        inside = sum(1 for t in history.ts_ms if start < t <= end)
        names = ", ".join(sorted({Path(p).name for p in history.sources}))
        every = f"every {hours(interval)}, {_SOURCE[sim.funding_interval_source(symbol)]}"
        partial = "" if history.covers(start, end, interval) else f"; outside it the {fallback}"
        out[symbol] = f"history: {inside} settlements in the period from {names} ({every}){partial}"
    return out


def settlement_bars(sim: MatchingEngine, symbol: str, ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[
    np.bool_
]:
    """True on the first bar and on each bar that is the first to open at or after one of the
    symbol's settlements: the bars the venue must walk for a held position to pay funding."""
    out = np.zeros(len(ts_ms), dtype=bool)
    if not len(ts_ms):
        return out
    out[0] = True
    times = sim.funding_times(symbol, int(ts_ms[0]), int(ts_ms[-1]))
    if times:
        out[np.searchsorted(ts_ms, np.asarray(times, dtype=np.int64), side="left")] = True
    return out
