"""What the HTML report's charts draw, kept small enough to inline.

* Equity and drawdown: the full curve (one point per bar close) when it has at most
  :data:`MAX_CURVE_POINTS` points; a longer one is cut into that many buckets and each bucket
  keeps its first point, its highest and lowest equity and its deepest drawdown (drawdown from
  the running peak of the *full* curve). So the chart's lowest drawdown is exactly the run's max
  drawdown, and no peak or trough is smoothed away.
* Candles: per symbol, at the bars' own interval when there are at most :data:`MAX_CANDLES`;
  otherwise aggregated to the smallest standard interval (15m, 1h, 4h, ...) that fits, aligned to
  00:00 UTC (open of the first bar, highest high, lowest low, close of the last, indicator values
  of the last bar). Trade markers sit on the candle holding the fill; the trade list keeps the
  exact times. At most :data:`MAX_SYMBOL_CHARTS` symbols are drawn, those with the most trades
  first.
* Indicators: the strategy's own specs, computed over the same bars the run used. Price-level
  ones (moving averages, bands, lagged prices) are drawn over the candles; each other kind (RSI,
  ADX, ratios) gets a pane of its own below, at most :data:`MAX_OSCILLATOR_PANES`.

Times are epoch seconds (the chart library's unit). Equity (USDT) and drawdown (%) are rounded
to 2 decimals by the report's formatter, so the values under the cursor read as the tables do;
prices and indicators to 8 significant digits.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.backtest import formatting as fmt
from alphadesk.backtest.result import BacktestResult
from alphadesk.domain.enums import Side
from alphadesk.strategies.features import Ohlcv, compute
from alphadesk.strategies.specs import IndicatorSpec

MAX_CURVE_POINTS = 4_000
MAX_CANDLES = 2_500
MAX_SYMBOL_CHARTS = 12
MAX_OSCILLATOR_PANES = 3
DISPLAY_MINUTES = (1, 3, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 10080)
PRICE_KINDS = frozenset({"ema", "sma", "bb_upper", "bb_lower", "source", "lag"})
PRICE_FIELDS = frozenset({"open", "high", "low", "close"})

FloatArray = npt.NDArray[np.float64]


def _round(values: FloatArray, digits: int = 8) -> list[float | None]:
    out: list[float | None] = []
    for v in values.tolist():
        out.append(None if v != v else float(f"{v:.{digits}g}"))
    return out


def equity_points(result: BacktestResult) -> dict[str, list[Any]]:
    times = result.times_ms
    equity = result.equity
    peak = np.maximum.accumulate(equity)
    dd = np.where(peak > 0, (equity - peak) / np.where(peak > 0, peak, 1) * 100, 0.0)
    n = len(times)
    if n > MAX_CURVE_POINTS:
        edges = np.linspace(0, n, MAX_CURVE_POINTS + 1).astype(np.int64)
        keep = {0, n - 1}
        for lo, hi in itertools.pairwise(edges.tolist()):
            if hi <= lo:
                continue
            keep.update(
                (lo, lo + int(np.argmax(equity[lo:hi])), lo + int(np.argmin(equity[lo:hi])),
                 lo + int(np.argmin(dd[lo:hi])))
            )
        idx = np.array(sorted(keep), dtype=np.int64)
    else:
        idx = np.arange(n)
    return {
        "t": (times[idx] // 1000).tolist(),
        "equity": [fmt.rounded(v, 2) for v in equity[idx].tolist()],
        "drawdown": [fmt.rounded(v, 2) for v in dd[idx].tolist()],
        "downsampled": [int(n), len(idx)],
    }


def _display_minutes(interval_min: int, bars: int) -> int:
    for minutes in DISPLAY_MINUTES:
        if minutes >= interval_min and minutes % interval_min == 0 and (
            bars * interval_min / minutes <= MAX_CANDLES
        ):
            return minutes
    return DISPLAY_MINUTES[-1] if DISPLAY_MINUTES[-1] % interval_min == 0 else interval_min


def _buckets(ts_ms: npt.NDArray[np.int64], minutes: int) -> tuple[npt.NDArray[np.int64], Any]:
    """(bucket start per bar, index of each bucket's first bar)."""
    span = minutes * 60_000
    if minutes == 10080:  # weeks start on Monday 00:00 UTC (epoch day 0 was a Thursday)
        start = (ts_ms - 4 * 86_400_000) // span * span + 4 * 86_400_000
    else:
        start = ts_ms // span * span
    first = np.flatnonzero(np.append(True, start[1:] != start[:-1]))
    return start, first


def _indicator_groups(specs: dict[str, IndicatorSpec]) -> tuple[list[str], list[list[str]]]:
    overlays: list[str] = []
    panes: dict[str, list[str]] = {}
    for name, spec in specs.items():
        fields = [v for k, v in spec.args if k == "field"]
        if spec.kind in PRICE_KINDS and all(f in PRICE_FIELDS for f in fields):
            if spec.kind == "source" and fields == ["close"]:
                continue  # the candles' own close
            overlays.append(name)
        else:
            panes.setdefault(spec.kind, []).append(name)
    return overlays, list(panes.values())[:MAX_OSCILLATOR_PANES]


def _symbol_chart(
    bars: BarArrays, specs: dict[str, IndicatorSpec], trips: list[Any], interval_min: int
) -> dict[str, Any]:
    n = len(bars)
    minutes = _display_minutes(interval_min, n)
    start, first = _buckets(bars.ts_ms, minutes)
    last = np.append(first[1:] - 1, n - 1)
    o = bars.open[first]
    h = np.maximum.reduceat(bars.high, first)
    lo = np.minimum.reduceat(bars.low, first)
    c = bars.close[last]
    overlays, panes = _indicator_groups(specs)
    ohlcv = Ohlcv.of(bars.open, bars.high, bars.low, bars.close, bars.volume)
    wanted = overlays + [name for pane in panes for name in pane]
    lines = {name: _round(compute(specs[name], ohlcv)[last]) for name in wanted}
    bucket_starts = start[first]
    markers = []
    for trip in trips:
        for moment, is_entry in ((trip.entry_time, True), (trip.exit_time, False)):
            ms = int(moment.timestamp() * 1000)
            k = max(0, int(np.searchsorted(bucket_starts, ms, side="right")) - 1)
            long = trip.entry_side is Side.BUY
            markers.append({
                "time": int(bucket_starts[k] // 1000),
                "entry": is_entry,
                "long": long,
                "text": ("L" if long else "S") if is_entry else trip.exit_reason,
                "price": float(trip.entry_price if is_entry else trip.exit_price),
            })
    markers.sort(key=lambda m: (m["time"], not m["entry"]))
    return {
        "symbol": bars.symbol,
        "bar_minutes": interval_min,
        "shown_minutes": minutes,
        "bars": n,
        "t": (bucket_starts // 1000).tolist(),
        "o": _round(o), "h": _round(h), "l": _round(lo), "c": _round(c),
        "overlays": overlays,
        "panes": panes,
        "lines": lines,
        "specs": {name: str(specs[name]) for name in wanted},
        "markers": markers,
    }


def candle_charts(result: BacktestResult) -> dict[str, Any]:
    data = result.output.data
    specs = dict(result.output.strategy.indicators())
    per_symbol: dict[str, list[Any]] = {s: [] for s in data.symbols}
    for trip in result.trips:
        per_symbol.setdefault(trip.symbol, []).append(trip)
    counts = Counter({s: len(t) for s, t in per_symbol.items()})
    order = sorted(data.symbols, key=lambda s: (-counts[s], s))
    shown = order[:MAX_SYMBOL_CHARTS]
    charts = [
        _symbol_chart(data.series[s], specs, per_symbol[s], data.interval_min) for s in shown
    ]
    return {"charts": charts, "omitted": order[MAX_SYMBOL_CHARTS:]}
