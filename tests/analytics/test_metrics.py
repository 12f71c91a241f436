"""Metrics on small series whose answers were worked out by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from alphadesk.analytics import curve
from alphadesk.analytics.exposure import exposure
from alphadesk.analytics.summary import compute
from alphadesk.analytics.trades import cost_stats, profit_factor, trade_stats
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType
from alphadesk.domain.roundtrips import match
from alphadesk.testing.builders import T0, make_fill

D = Decimal


def test_profit_factor_is_gains_over_losses() -> None:
    assert profit_factor([D(10), D(-5), D(20), D(-10)]) == D(2)
    assert profit_factor([D(10), D(0)]) is None


def test_trade_stats_over_fifo_round_trips() -> None:
    fills = [
        make_fill("Buy", "2", "100", "0.2", seconds=0),
        make_fill("Sell", "1", "110", "0.1", seconds=60),  # +10 - 0.1 - 0.1 = 9.8
        make_fill("Sell", "1", "90", "0.1", seconds=120),  # -10 - 0.1 - 0.1 = -10.2
        make_fill("Sell", "1", "100", "0", seconds=180),  # short 1 @ 100
        make_fill("Buy", "1", "80", "0", seconds=240),  # +20
    ]
    trips = match("shortseller_001", "BTCUSDT", fills)
    stats = trade_stats(trips)
    assert stats.count == 3
    assert (stats.wins, stats.losses) == (2, 1)
    assert stats.net_pnl == D("19.6")
    assert stats.gross_profit == D("29.8")
    assert stats.gross_loss == D("10.2")
    assert stats.profit_factor == D("29.8") / D("10.2")
    assert stats.expectancy == D("19.6") / 3
    assert stats.win_rate == D(2) / 3
    assert stats.best == D("20") and stats.worst == D("-10.2")
    assert stats.avg_holding_seconds == D(60 + 120 + 60) / 3


def test_cost_stats_split_fees_and_funding() -> None:
    fills = [
        make_fill("Buy", "1", "100", "0.05"),
        make_fill("Buy", "1", "100", "0.3", exec_type=ExecType.FUNDING, seconds=10),
        make_fill("Sell", "1", "100", "-0.02", seconds=20, is_maker=True),  # a maker's rebate
    ]
    costs = cost_stats(fills)
    assert costs.fees == D("0.03")
    assert costs.funding == D("0.3")
    assert costs.fill_count == 2
    assert costs.traded_notional == D(200)


def test_drawdown_depth_and_longest_underwater_period() -> None:
    times = [0, 1, 2, 3, 4, 5]
    equity = [100.0, 120.0, 90.0, 110.0, 125.0, 100.0]
    dd = curve.drawdown(times, equity)
    assert dd.max_pct == pytest.approx(0.25)
    assert dd.max_amount == pytest.approx(30.0)
    assert (dd.peak_ms, dd.trough_ms) == (1, 2)
    # 120 at t=1 is regained at t=4 (3 units); the fall from 125 at t=4 lasts to the end (1).
    assert dd.max_duration_ms == 3
    assert (dd.duration_start_ms, dd.duration_end_ms) == (1, 4)


def test_drawdown_never_recovered_runs_to_the_end() -> None:
    dd = curve.drawdown([0, 10, 20, 30], [100.0, 90.0, 95.0, 99.0])
    assert dd.max_duration_ms == 30
    assert dd.max_pct == pytest.approx(0.10)


def test_flat_curve_has_no_drawdown() -> None:
    assert curve.drawdown([0, 1, 2], [5.0, 5.0, 6.0]) == curve.NO_DRAWDOWN


def test_sharpe_and_sortino_on_a_known_series() -> None:
    r = [0.01, -0.02, 0.03, 0.00]
    # mean 0.005; sample std sqrt(0.0013 / 3); downside deviation sqrt(0.0004 / 4) = 0.01
    assert curve.sharpe(r, 1) == pytest.approx(0.005 / math.sqrt(0.0013 / 3))
    assert curve.sortino(r, 1) == pytest.approx(0.5)
    assert curve.sharpe(r, 365) == pytest.approx(0.005 / math.sqrt(0.0013 / 3) * math.sqrt(365))
    assert curve.sharpe([0.01, 0.01], 1) is None
    assert curve.sortino([0.01, 0.02], 1) is None


def test_period_returns_take_last_point_per_day_and_carry_empty_days() -> None:
    day = curve.DAY_MS
    times = [0, 10, day + 5, day + 50, 3 * day + 1]
    equity = [100.0, 101.0, 105.0, 110.0, 99.0]
    r = curve.period_returns(times, equity)
    # day0 close 101 (from 100), day1 close 110, day2 empty (110), day3 close 99
    assert r.tolist() == pytest.approx([0.01, 110 / 101 - 1, 0.0, 99 / 110 - 1])


def test_cagr_and_calmar() -> None:
    assert curve.cagr(100.0, 121.0, 2 * curve.YEAR_MS) == pytest.approx(0.1)
    assert curve.cagr(100.0, 0.0, curve.YEAR_MS) == -1.0
    assert curve.calmar(0.2, 0.1) == pytest.approx(2.0)
    assert curve.calmar(0.2, 0.0) is None


def test_exposure_counts_overlaps_once() -> None:
    start = to_epoch_ms(T0)
    fills = [
        make_fill("Buy", "1", "100", seconds=0),
        make_fill("Sell", "1", "100", seconds=100, symbol="ETHUSDT"),
        make_fill("Sell", "1", "100", seconds=200),
        make_fill("Buy", "1", "100", seconds=300, symbol="ETHUSDT"),
    ]
    # open from 0 to 300 s out of 1000 s
    assert exposure(fills, start, start + 1_000_000) == D("0.3")
    still_open = [make_fill("Buy", "1", "100", seconds=500)]
    assert exposure(still_open, start, start + 1_000_000) == D("0.5")


def test_compute_combines_the_parts() -> None:
    fills = [
        make_fill("Buy", "1", "100", "1", seconds=0),
        make_fill("Sell", "1", "120", "1", seconds=60),
    ]
    trips = match("shortseller_001", "BTCUSDT", fills)
    start = to_epoch_ms(T0)
    m = compute(
        initial_equity=D(1000),
        final_equity=D(1018),
        fills=fills,
        trips=trips,
        times_ms=[start, start + 60_000],
        equity=[1000.0, 1018.0],
        start_ms=start,
        end_ms=start + 120_000,
    )
    assert m.net_pnl == D(18) and m.return_pct == D("1.8")
    assert m.trades.net_pnl == D(18)
    assert m.costs.fees == D(2)
    assert m.exposure == D("0.5")
    assert m.drawdown == curve.NO_DRAWDOWN
