"""The equity curve of a run, rebuilt from its fills and the bar closes, vectorised.

Between fills nothing changes but prices, so equity at every bar close is cash (starting equity
plus realised PnL, fees and funding) plus, per symbol, ``qty * close - signed cost``, with cash,
qty and cost step functions that change only at fills. This costs a few numpy passes however many
bars were skipped by the loop, and gives the same curve as marking every bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from alphadesk.backtest.data import MarketData
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.positions import Position

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _steps(length: int, at: list[int], values: list[float], start: float) -> FloatArray:
    """A step function over ``length`` points: ``values[j]`` from index ``at[j]`` on."""
    out = np.full(length, np.nan)
    if at:
        idx = np.asarray(at, dtype=np.int64)
        vals = np.asarray(values, dtype=np.float64)
        keep = np.append(idx[1:] != idx[:-1], True)  # the last value within one bar wins
        idx, vals = idx[keep], vals[keep]
        inside = idx < length
        out[idx[inside]] = vals[inside]
    if np.isnan(out[0]):
        out[0] = start
    valid = ~np.isnan(out)
    filled = np.where(valid, np.arange(length), 0)
    np.maximum.accumulate(filled, out=filled)
    result: FloatArray = out[filled]
    return result


def equity_curve(
    data: MarketData, fills: Sequence[Fill], initial: Decimal
) -> tuple[IntArray, FloatArray]:
    """(close times, equity at each close) on the run's timeline, plus nothing else."""
    closes_at: IntArray = data.close_times
    length = len(closes_at)
    ordered = in_fold_order(fills)
    realized = Decimal(0)
    positions: dict[str, Position] = {}
    cash_at: list[int] = []
    cash_vals: list[float] = []
    pos_at: dict[str, list[int]] = {s: [] for s in data.series}
    qty_vals: dict[str, list[float]] = {s: [] for s in data.series}
    cost_vals: dict[str, list[float]] = {s: [] for s in data.series}
    for fill in ordered:
        k = int(np.searchsorted(closes_at, to_epoch_ms(fill.exec_time), side="right"))
        before = positions.get(fill.symbol) or Position(fill.bot_id, fill.symbol)
        after = before.apply(fill)
        positions[fill.symbol] = after
        realized += after.realized_pnl - before.realized_pnl
        cash_at.append(k)
        cash_vals.append(float(initial + realized))
        if fill.symbol in pos_at:
            pos_at[fill.symbol].append(k)
            qty_vals[fill.symbol].append(float(after.qty))
            signed_cost = after.cost if after.qty >= 0 else -after.cost
            cost_vals[fill.symbol].append(float(signed_cost))
    equity = _steps(length, cash_at, cash_vals, float(initial))
    for symbol, bars in data.series.items():
        if not pos_at[symbol]:
            continue
        index = data.index[symbol]
        latest = np.maximum.accumulate(index)
        close = np.where(latest >= 0, bars.close[np.maximum(latest, 0)], 0.0)
        qty = _steps(length, pos_at[symbol], qty_vals[symbol], 0.0)
        cost = _steps(length, pos_at[symbol], cost_vals[symbol], 0.0)
        equity = equity + qty * close - cost
    return closes_at, equity
