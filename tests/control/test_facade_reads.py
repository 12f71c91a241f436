"""The facade's answers equal the ledger's figures: a seeded ledger (known fills, round trips
and equity snapshots, on SQLite with the in-process state and on PostgreSQL with Redis), every
figure checked against a value worked out by hand from the seeded fills."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from alphadesk.domain.enums import Side
from alphadesk.engine.control_views import UnknownBot
from alphadesk.engine.state_ports import PositionState
from alphadesk.strategies.api import TradingState

from .conftest import Desk
from .control_support import LX, NOW, SS, control_over, seed


async def test_status_positions_and_balances(desk: Desk) -> None:
    await seed(desk.url)
    await desk.state.bots.set_status(SS, "reducing")
    await desk.state.bots.beat(SS, NOW - timedelta(seconds=4), ttl_s=60)
    await desk.state.market.set_market("BTCUSDT", Decimal(100))
    async with control_over(desk.url, desk.state) as control:
        assert await control.bots() == [LX, SS]
        status = await control.status()
        ss, lx = status.bots[1], status.bots[0]
        assert (ss.bot_id, ss.mode, ss.status, ss.trading_state) == (
            SS, "demo", "reducing", TradingState.REDUCING,
        )  # fmt: skip
        assert ss.heartbeat_age_s == pytest.approx(4.0) and ss.alive
        assert ss.open_positions == 1 and ss.equity == Decimal("10004.5")
        assert (lx.status, lx.trading_state, lx.alive, lx.open_positions) == (
            "stopped", None, False, 0,
        )  # fmt: skip
        assert lx.heartbeat_age_s == pytest.approx(3600.0) and lx.equity == Decimal(5020)
        assert status.total_open_positions == 1
        assert status.total_equity == Decimal("15024.5") and status.alive == 1
        assert status.listener is None  # no health source wired

        # No live position yet (nothing announced): the ledger's projection, marked live.
        (position,) = await control.positions()
        assert (position.bot_id, position.symbol, position.side, position.size) == (
            SS, "BTCUSDT", Side.SELL, Decimal("0.5"),
        )  # fmt: skip
        assert position.avg_price == Decimal(110) and position.mark_price == Decimal(100)
        assert position.unrealized_pnl == Decimal(5) and position.notional == Decimal(50)
        assert position.source == "ledger"
        # The live state wins once it holds the bot's positions (its stored uPnL is stale).
        await desk.state.positions.put_position(
            PositionState(
                SS, "BTCUSDT", Decimal("0.5"), Side.SELL, Decimal(110), Decimal(0), NOW, 5
            )
        )
        (live,) = await control.positions("shortseller")
        assert live.source == "live" and live.unrealized_pnl == Decimal(5)
        assert await control.positions(LX) == []

        balances = await control.balances()
        by_bot = {b.bot_id: b for b in balances.bots}
        assert by_bot[SS].source == "venue" and by_bot[SS].equity == Decimal("10004.5")
        assert by_bot[SS].available_balance == Decimal("9944.5")
        assert by_bot[LX].source == "bot" and by_bot[LX].equity == Decimal(5020)
        assert balances.total_equity == Decimal("15024.5")
        assert balances.total_wallet_balance == Decimal("9999.5")


async def test_analytics_in_the_seeds_layout(desk: Desk) -> None:
    await seed(desk.url)
    async with control_over(desk.url, desk.state) as control:
        view = await control.analytics()
        assert view.total_fills == 7
        assert view.total_volume == Decimal(855)  # 100+90+100+90+55 + 200+220
        assert (view.round_trips, view.wins, view.losses) == (3, 2, 1)
        assert view.win_rate == Decimal(2) / 3
        assert view.net_pnl == Decimal("19.7") and view.fees == Decimal("0.355")
        lines = {line.bot_id: line for line in view.by_strategy}
        assert (lines[SS].fills, lines[SS].volume, lines[SS].net_pnl) == (
            5, Decimal(435), Decimal("-0.3"),
        )  # fmt: skip
        assert (lines[LX].fills, lines[LX].volume, lines[LX].net_pnl) == (2, Decimal(420), 20)
        assert [(s.symbol, s.fills) for s in view.top_symbols] == [
            ("BTCUSDT", 3), ("ETHUSDT", 2), ("SOLUSDT", 2),
        ]  # fmt: skip
        one = await control.analytics("lxalgo")
        assert (one.total_fills, one.round_trips, one.win_rate) == (2, 1, Decimal(1))
        assert [line.bot_id for line in one.by_strategy] == [LX]


async def test_pnl_tables_and_recent_round_trips(desk: Desk) -> None:
    await seed(desk.url)
    async with control_over(desk.url, desk.state) as control:
        daily = await control.pnl_table("daily", rows=3)
        assert [(r.start, r.trades, r.wins, r.losses, r.net_pnl) for r in daily.rows] == [
            (date(2025, 11, 9), 0, 0, 0, Decimal(0)),
            (date(2025, 11, 8), 2, 1, 1, Decimal("9.9")),
            (date(2025, 11, 7), 1, 1, 0, Decimal("9.8")),
        ]
        assert (daily.total.trades, daily.total.net_pnl, daily.total.fees) == (
            3, Decimal("19.7"), Decimal("0.3"),
        )  # fmt: skip
        assert daily.total.gross_pnl == Decimal(20)
        weekly = await control.pnl_table("weekly", rows=2)
        assert [(r.start, r.trades) for r in weekly.rows] == [
            (date(2025, 11, 3), 3), (date(2025, 10, 27), 0),
        ]  # fmt: skip
        monthly = await control.pnl_table("monthly", bot=SS, rows=2)
        assert [(r.start, r.trades, r.net_pnl) for r in monthly.rows] == [
            (date(2025, 11, 1), 2, Decimal("-0.3")), (date(2025, 10, 1), 0, Decimal(0)),
        ]  # fmt: skip
        assert monthly.bot == SS

        trades = await control.trades(n=2)
        assert [(t.bot_id, t.symbol, t.net_pnl) for t in trades] == [
            (SS, "ETHUSDT", Decimal("-10.1")), (LX, "SOLUSDT", Decimal(20)),
        ]  # fmt: skip
        (only,) = await control.trades("shortseller", n=1)
        assert (only.symbol, only.side, only.qty, only.entry_price, only.exit_price) == (
            "ETHUSDT", Side.BUY, Decimal(2), Decimal(50), Decimal(45),
        )  # fmt: skip
        assert only.holding_seconds == 7200 and only.fees == Decimal("0.1")
        with pytest.raises(ValueError, match="period="):
            await control.pnl_table("hourly")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="n=0"):
            await control.trades(n=0)


async def test_performance_uses_the_analytics_module(desk: Desk) -> None:
    await seed(desk.url)
    async with control_over(desk.url, desk.state) as control:
        lx = await control.performance("lxalgo")
        assert lx.curve_source == "trades"  # no venue snapshots: capital + closed round trips
        assert [p.equity for p in lx.curve] == [Decimal(5000), Decimal(5020)]
        assert lx.metrics is not None
        assert lx.metrics.net_pnl == Decimal(20) and lx.metrics.return_pct == Decimal("0.4")
        assert lx.metrics.trades.count == 1 and lx.metrics.costs.fill_count == 2
        ss = await control.performance(SS)
        assert ss.curve_source == "venue"
        assert [p.equity for p in ss.curve] == [Decimal(10_000), Decimal("10004.5")]
        assert ss.metrics is not None
        assert ss.metrics.trades.count == 2 and ss.metrics.trades.net_pnl == Decimal("-0.3")
        assert ss.metrics.costs.fees == Decimal("0.355")
        assert ss.metrics.net_pnl == Decimal("4.5")


async def test_unknown_bot_names_the_field(desk: Desk) -> None:
    await seed(desk.url)
    async with control_over(desk.url, desk.state) as control:
        for ask in (control.status, control.positions, control.analytics, control.trades):
            with pytest.raises(UnknownBot) as caught:
                await ask("nobody")
            assert caught.value.field == "bot" and caught.value.value == "nobody"
            assert "known: lxalgo_001, shortseller_001" in str(caught.value)
        assert await control.resolve("shortseller") == SS
        assert await control.resolve(LX) == LX
