"""All headline metrics of one account or bot in one object, for reports and the dashboard.

Money is Decimal (from fills and round trips); curve statistics are floats (see curve.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy.typing as npt

from alphadesk.analytics import curve
from alphadesk.analytics.exposure import exposure
from alphadesk.analytics.trades import CostStats, TradeStats, cost_stats, trade_stats
from alphadesk.domain.fills import Fill
from alphadesk.domain.roundtrips import RoundTrip


@dataclass(frozen=True, slots=True)
class Metrics:
    initial_equity: Decimal
    final_equity: Decimal
    net_pnl: Decimal
    return_pct: Decimal
    trades: TradeStats
    costs: CostStats
    drawdown: curve.Drawdown
    sharpe: float | None
    sortino: float | None
    cagr: float | None
    calmar: float | None
    exposure: Decimal


def compute(
    *,
    initial_equity: Decimal,
    final_equity: Decimal,
    fills: Sequence[Fill],
    trips: Sequence[RoundTrip],
    times_ms: npt.ArrayLike,
    equity: npt.ArrayLike,
    start_ms: int,
    end_ms: int,
    period_ms: int = curve.DAY_MS,
) -> Metrics:
    """Score a period. ``net_pnl`` is final minus initial equity: realised, unrealised, fees
    and funding, the number an owner's balance shows (round trips alone miss open positions)."""
    dd = curve.drawdown(times_ms, equity)
    returns = curve.period_returns(times_ms, equity, period_ms)
    periods_per_year = curve.YEAR_MS / period_ms
    growth = curve.cagr(float(initial_equity), float(final_equity), end_ms - start_ms)
    net = final_equity - initial_equity
    return Metrics(
        initial_equity=initial_equity,
        final_equity=final_equity,
        net_pnl=net,
        return_pct=net / initial_equity * 100 if initial_equity else Decimal(0),
        trades=trade_stats(trips),
        costs=cost_stats(fills),
        drawdown=dd,
        sharpe=curve.sharpe(returns, periods_per_year),
        sortino=curve.sortino(returns, periods_per_year),
        cagr=growth,
        calmar=curve.calmar(growth, dd.max_pct),
        exposure=exposure(fills, start_ms, end_ms) if end_ms > start_ms else Decimal(0),
    )
