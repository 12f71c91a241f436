"""The control facade's round-trip reads: PnL per day, week or month, and the trades themselves.

All from ``trading.completed_trades`` (the round-trip store): a period's row sums the round
trips that closed in it (UTC days; weeks start on Monday), and the trade lists are the stored
round trips as views, newest close first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.control_names import find_bots, one_bot
from alphadesk.engine.control_ports import ControlLedger, RoundTripReader
from alphadesk.engine.control_views import (
    PERIODS,
    Period,
    PnlRow,
    PnlTable,
    RoundTripPage,
    RoundTripView,
)
from alphadesk.engine.ports import StoredRoundTrip

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TripFilter:
    """Which round trips a page holds: each filter given must match (``since``/``until`` bound
    the exit time, ``until`` excluded)."""

    symbol: str | None = None
    side: Side | None = None
    exit_reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def checked(self) -> TripFilter:
        """Times must be UTC; the side may come as its text (``Buy``)."""
        for name, moment in (("since", self.since), ("until", self.until)):
            if moment is not None:
                checks.utc(name, moment)
        if self.side is None:
            return self
        return replace(self, side=Side.parse(self.side, "side"))

    def matches(self, t: StoredRoundTrip) -> bool:
        return (
            (self.side is None or t.entry_side is self.side)
            and (self.exit_reason is None or t.exit_reason == self.exit_reason)
            and (self.since is None or t.exit_time >= self.since)
            and (self.until is None or t.exit_time < self.until)
        )


@dataclass(frozen=True, slots=True)
class TradeReads:
    """PnL tables and round-trip lists; the facade builds one from its ports."""

    ledger: ControlLedger
    trips: RoundTripReader
    clock: Callable[[], datetime]

    async def pnl_table(self, period: Period, bot: str | None, rows: int) -> PnlTable:
        if period not in PERIODS:
            raise InvalidField("period", period, f"must be one of {', '.join(PERIODS)}")
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 366:
            raise InvalidField("rows", rows, "must be an int from 1 to 366")
        records = await find_bots(self.ledger, bot)
        ids = {r.bot_id for r in records}
        trips = [
            t
            for t in await self.trips.list_round_trips(bot_id=one_bot(bot, records))
            if t.bot_id in ids
        ]
        today = self.clock().astimezone(UTC).date()
        starts = _period_starts(period, today, rows)
        oldest = starts[-1]
        buckets: dict[date, list[StoredRoundTrip]] = {s: [] for s in starts}
        for trip in trips:
            start = _period_start(period, trip.exit_time.astimezone(UTC).date())
            if start >= oldest and start in buckets:
                buckets[start].append(trip)
        table = tuple(_pnl_row(s, buckets[s]) for s in starts)
        shown = [t for s in starts for t in buckets[s]]
        return PnlTable(
            period=period, bot=one_bot(bot, records), rows=table, total=_pnl_row(oldest, shown)
        )

    async def trades(self, bot: str | None, n: int) -> list[RoundTripView]:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InvalidField("n", n, "must be an int from 1 to 1000")
        records = await find_bots(self.ledger, bot)
        ids = {r.bot_id for r in records}
        one = one_bot(bot, records)
        # every bot with round trips has a trading.bots row (the store registers a placeholder)
        found = await self.trips.list_round_trips(bot_id=one, limit=n)
        return [_trip_view(t) for t in found if t.bot_id in ids][:n]

    async def trade_page(
        self, bot: str | None, n: int, offset: int, wanted: TripFilter
    ) -> RoundTripPage:
        """Round trips matching every filter given, newest close first, ``n`` from ``offset``:
        a dashboard's paged and filtered table over the whole ledger."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InvalidField("n", n, "must be an int from 1 to 1000")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidField("offset", offset, "must be an int >= 0")
        wanted = wanted.checked()
        records = await find_bots(self.ledger, bot)
        ids = {r.bot_id for r in records}
        found = [
            t
            for t in await self.trips.list_round_trips(
                bot_id=one_bot(bot, records), symbol=wanted.symbol
            )
            if t.bot_id in ids and wanted.matches(t)
        ]
        page = tuple(_trip_view(t) for t in found[offset : offset + n])
        return RoundTripPage(total=len(found), offset=offset, trades=page)


def _period_start(period: Period, day: date) -> date:
    if period == "daily":
        return day
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _period_starts(period: Period, today: date, rows: int) -> list[date]:
    """The newest ``rows`` period starts up to today, newest first."""
    starts = [_period_start(period, today)]
    while len(starts) < rows:
        last = starts[-1]
        if period == "daily":
            starts.append(last - timedelta(days=1))
        elif period == "weekly":
            starts.append(last - timedelta(days=7))
        else:
            starts.append((last - timedelta(days=1)).replace(day=1))
    return starts


def _pnl_row(start: date, trips: Sequence[StoredRoundTrip]) -> PnlRow:
    return PnlRow(
        start=start,
        trades=len(trips),
        wins=sum(1 for t in trips if t.net_pnl > 0),
        losses=sum(1 for t in trips if t.net_pnl < 0),
        gross_pnl=sum((t.gross_pnl for t in trips), ZERO),
        fees=sum((t.fees for t in trips), ZERO),
        funding=sum((t.funding for t in trips), ZERO),
        net_pnl=sum((t.net_pnl for t in trips), ZERO),
    )


def _trip_view(t: StoredRoundTrip) -> RoundTripView:
    return RoundTripView(
        trade_id=t.trade_id,
        bot_id=t.bot_id,
        symbol=t.symbol,
        side=t.entry_side,
        qty=t.qty,
        entry_price=t.entry_price,
        exit_price=t.exit_price,
        entry_time=t.entry_time,
        exit_time=t.exit_time,
        gross_pnl=t.gross_pnl,
        fees=t.fees,
        funding=t.funding,
        net_pnl=t.net_pnl,
        holding_seconds=t.holding_seconds,
        exit_reason=t.exit_reason,
    )
