"""The control facade's performance figures: desk analytics and each bot's metrics and curve.

``analytics`` sums the ledger's fill tallies and round trips per bot and symbol;
``performance`` runs :func:`alphadesk.analytics.summary.compute` over a bot's (or the desk's)
fills, their FIFO round trips and the venue equity curve, or, when no equity snapshots cover
every bot (paper), over initial capital plus each closed round trip's net PnL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from alphadesk.analytics import summary
from alphadesk.analytics.curve import EquityPoint, curve_arrays
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.roundtrips import RoundTrip, match
from alphadesk.engine.control_names import find_bots, one_bot
from alphadesk.engine.control_ports import ControlLedger, FillReader, RoundTripReader
from alphadesk.engine.control_views import (
    AnalyticsView,
    CurveSource,
    EquityPointView,
    PerformanceView,
    StrategyLine,
    SymbolLine,
)
from alphadesk.engine.ports import StoredRoundTrip

ZERO = Decimal(0)
_TOP_SYMBOLS = 5


@dataclass(frozen=True, slots=True)
class PerformanceReads:
    """Analytics and performance; the facade builds one from its ports."""

    ledger: ControlLedger
    fills: FillReader
    trips: RoundTripReader

    async def analytics(self, bot: str | None) -> AnalyticsView:
        records = await find_bots(self.ledger, bot)
        ids = {r.bot_id for r in records}
        tallies = [t for t in await self.ledger.fill_tallies() if t.bot_id in ids]
        trips = [
            t
            for t in await self.trips.list_round_trips(bot_id=one_bot(bot, records))
            if t.bot_id in ids
        ]
        by_bot: dict[str, list[StoredRoundTrip]] = defaultdict(list)
        for trip in trips:
            by_bot[trip.bot_id].append(trip)
        lines = []
        for record in records:
            mine = [t for t in tallies if t.bot_id == record.bot_id]
            lines.append(
                StrategyLine(
                    bot_id=record.bot_id,
                    strategy=record.strategy_name,
                    fills=sum(t.fills for t in mine),
                    volume=sum((t.volume for t in mine), ZERO),
                    round_trips=len(by_bot[record.bot_id]),
                    net_pnl=sum((t.net_pnl for t in by_bot[record.bot_id]), ZERO),
                )
            )
        symbols: dict[str, list[int | Decimal]] = {}
        for t in tallies:
            entry = symbols.setdefault(t.symbol, [0, ZERO])
            entry[0] = int(entry[0]) + t.fills
            entry[1] = Decimal(entry[1]) + t.volume
        top = sorted(symbols.items(), key=lambda kv: (-int(kv[1][0]), kv[0]))[:_TOP_SYMBOLS]
        wins = sum(1 for t in trips if t.net_pnl > 0)
        return AnalyticsView(
            total_fills=sum(t.fills for t in tallies),
            total_volume=sum((t.volume for t in tallies), ZERO),
            round_trips=len(trips),
            wins=wins,
            losses=sum(1 for t in trips if t.net_pnl < 0),
            win_rate=Decimal(wins) / len(trips) if trips else ZERO,
            net_pnl=sum((t.net_pnl for t in trips), ZERO),
            fees=sum((t.fees for t in tallies), ZERO),
            by_strategy=tuple(lines),
            top_symbols=tuple(SymbolLine(s, int(v[0]), Decimal(v[1])) for s, v in top),
        )

    async def performance(self, bot: str | None) -> PerformanceView:
        records = await find_bots(self.ledger, bot)
        ids = {r.bot_id for r in records}
        one = one_bot(bot, records)
        fills = [f for f in await self.fills.read_fills(bot_id=one) if f.bot_id in ids]
        trips = _round_trips(fills)
        initial = sum((r.initial_capital for r in records), ZERO)
        curve = await self.ledger.equity_curve(one)
        source: CurveSource = "venue"
        snapshotted = (await self.ledger.latest_equity()).keys()
        if len(curve) < 2 or not ids <= snapshotted:  # a desk curve must cover every bot
            source = "trades"
            curve = _trade_curve(initial, fills, trips)
        if not fills or len(curve) < 2:
            points = tuple(EquityPointView(_at(p.time_ms), p.equity) for p in curve)
            return PerformanceView(
                bot=one, metrics=None, curve=points, curve_source="none" if not curve else source
            )
        times, values = curve_arrays(curve)
        start_equity = curve[0].equity if source == "venue" else initial
        metrics = summary.compute(
            initial_equity=start_equity,
            final_equity=curve[-1].equity,
            fills=fills,
            trips=trips,
            times_ms=times,
            equity=values,
            start_ms=curve[0].time_ms,
            end_ms=curve[-1].time_ms,
        )
        return PerformanceView(
            bot=one,
            metrics=metrics,
            curve=tuple(EquityPointView(_at(p.time_ms), p.equity) for p in curve),
            curve_source=source,
        )


def _at(time_ms: int) -> datetime:
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC)


def _round_trips(fills: Sequence[Fill]) -> list[RoundTrip]:
    keyed: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in in_fold_order(fills):
        keyed[(fill.bot_id, fill.symbol)].append(fill)
    trips: list[RoundTrip] = []
    for (bot_id, symbol), series in sorted(keyed.items()):
        trips.extend(match(bot_id, symbol, series))
    return sorted(trips, key=lambda t: (t.exit_time, t.trade_id))


def _trade_curve(
    initial: Decimal, fills: Sequence[Fill], trips: Sequence[RoundTrip]
) -> list[EquityPoint]:
    """Initial capital, then after each closed round trip its net PnL added (closed-trade
    equity): the curve of a bot whose venue wallet was never snapshotted (paper)."""
    if not fills:
        return []
    first = min(f.exec_time for f in fills)
    points = [EquityPoint(to_epoch_ms(first), initial)]
    equity = initial
    for trip in trips:
        equity += trip.net_pnl
        points.append(EquityPoint(max(points[-1].time_ms, to_epoch_ms(trip.exit_time)), equity))
    return points
