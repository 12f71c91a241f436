"""What a backtest returns, and its JSON form.

The JSON is deterministic: sorted keys, Decimals as strings, floats (curve statistics) printed as
fixed-precision decimal strings, times as epoch ms and ISO-8601 UTC derived from the data, and no
wall-clock time anywhere, so the same run twice gives byte-identical output.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from alphadesk.analytics.summary import Metrics, compute
from alphadesk.backtest.equity import equity_curve
from alphadesk.backtest.runner import RunOutput
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.roundtrips import RoundTrip, match

MAX_CURVE_POINTS = 2_000


@dataclass(frozen=True, slots=True)
class BacktestResult:
    output: RunOutput
    trips: list[RoundTrip]
    metrics: Metrics
    times_ms: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]

    @property
    def bars(self) -> int:
        return self.output.data.bar_count


def summarize(output: RunOutput) -> BacktestResult:
    fills = output.fills
    trips: list[RoundTrip] = []
    for symbol in sorted({f.symbol for f in fills}):
        trips.extend(match(output.bot_id, symbol, [f for f in fills if f.symbol == symbol]))
    trips.sort(key=lambda t: (t.entry_time, t.exit_time, t.symbol, t.trade_id))
    initial = output.settings.initial_equity
    closes, equity = equity_curve(output.data, fills, initial)
    start_ms = int(output.data.timeline[0])
    times = np.concatenate(([start_ms], closes)).astype(np.int64)
    values = np.concatenate(([float(initial)], equity))
    metrics = compute(
        initial_equity=initial,
        final_equity=output.final_equity,
        fills=fills,
        trips=trips,
        times_ms=times,
        equity=values,
        start_ms=start_ms,
        end_ms=int(closes[-1]),
    )
    return BacktestResult(output, trips, metrics, times, values)


def _num(value: float | None, places: int = 6) -> str | None:
    if value is None or value != value:
        return None
    return format(Decimal(repr(round(value, places))).normalize(), "f")


def _iso(ms: int | None) -> str | None:
    return None if ms is None else from_epoch_ms("time", ms).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _num(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def _trip(trip: RoundTrip) -> dict[str, Any]:
    return {
        "symbol": trip.symbol,
        "side": trip.entry_side.value,
        "qty": str(trip.qty),
        "entry_time": _iso(int(trip.entry_time.timestamp() * 1000)),
        "exit_time": _iso(int(trip.exit_time.timestamp() * 1000)),
        "entry_price": str(trip.entry_price),
        "exit_price": str(trip.exit_price),
        "gross_pnl": str(trip.gross_pnl),
        "fees": str(trip.fees),
        "funding": str(trip.funding),
        "net_pnl": str(trip.net_pnl),
        "entry_reason": trip.entry_reason,
        "exit_reason": trip.exit_reason,
        "holding_seconds": trip.holding_seconds,
    }


def curve_points(result: BacktestResult) -> list[tuple[int, float]]:
    """At most MAX_CURVE_POINTS evenly spaced points, always including the last."""
    n = len(result.times_ms)
    step = max(1, -(-n // MAX_CURVE_POINTS))
    idx = list(range(0, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [(int(result.times_ms[i]), float(result.equity[i])) for i in idx]


def to_dict(result: BacktestResult) -> dict[str, Any]:
    out = result.output
    m = result.metrics
    dd = m.drawdown
    settings = out.settings
    refusals: dict[str, int] = {}
    for r in out.refusals:
        key = f"{r.kind}: {r.reason.split(':')[0]}"
        refusals[key] = refusals.get(key, 0) + 1
    return {
        "strategy": out.strategy.name,
        "params": _plain(out.strategy.params),
        "bot_id": out.bot_id,
        "symbols": out.data.symbols,
        "interval_min": out.data.interval_min,
        "bars": result.bars,
        "start": _iso(int(out.data.timeline[0])),
        "end": _iso(int(out.data.close_times[-1])),
        "settings": {
            "initial_equity": str(settings.initial_equity),
            "taker_fee": str(settings.taker_fee),
            "maker_fee": str(settings.maker_fee),
            "slippage_bps": str(settings.slippage_bps),
            "funding_rate": str(settings.funding_rate),
        },
        "funding": dict(sorted(out.funding_sources.items())),
        "instrument_sources": dict(sorted(out.instrument_sources.items())),
        "data_notes": list(out.data.notes),
        "instruments": {s: _plain(i) for s, i in sorted(out.instruments.items())},
        "metrics": {
            "initial_equity": str(m.initial_equity),
            "final_equity": str(m.final_equity),
            "net_pnl": str(m.net_pnl),
            "return_pct": _num(float(m.return_pct), 6),
            "trades": m.trades.count,
            "wins": m.trades.wins,
            "losses": m.trades.losses,
            "win_rate": _num(float(m.trades.win_rate), 6),
            "profit_factor": None
            if m.trades.profit_factor is None
            else _num(float(m.trades.profit_factor), 6),
            "expectancy": _num(float(m.trades.expectancy), 6),
            "realized_net_pnl": str(m.trades.net_pnl),
            "fees": str(m.costs.fees),
            "funding": str(m.costs.funding),
            "traded_notional": str(m.costs.traded_notional),
            "sharpe": _num(m.sharpe),
            "sortino": _num(m.sortino),
            "cagr": _num(m.cagr),
            "calmar": _num(m.calmar),
            "max_drawdown_pct": _num(dd.max_pct * 100),
            "max_drawdown_amount": _num(dd.max_amount, 2),
            "max_drawdown_peak": _iso(dd.peak_ms),
            "max_drawdown_trough": _iso(dd.trough_ms),
            "max_drawdown_duration_s": dd.max_duration_ms // 1000,
            "exposure_pct": _num(float(m.exposure * 100), 6),
        },
        "trades": [_trip(t) for t in result.trips],
        "equity_curve": [[t, _num(v, 2)] for t, v in curve_points(result)],
        "fills": len(out.fills),
        "intents": len(out.intents),
        "refusals": refusals,
    }


def to_json(result: BacktestResult) -> str:
    return json.dumps(to_dict(result), sort_keys=True, indent=1) + "\n"
