"""The control facade: every question about the desk and every command to a bot, in one place.

Telegram, the ``alphadesk control`` CLI and the web dashboard call this and only parse and
render (:mod:`alphadesk.engine.control_views`). Figures come from the ledger (``trading.*``
through :mod:`alphadesk.engine.control_ports` and the fill and round-trip stores) and from the
live state (positions, marks, bot status and heartbeats), never from the exchange; the one
exception is :meth:`Control.reconcile`, whose purpose is to compare the ledger with the venue,
and which never repairs anything.

Commands (:meth:`Control.halt`, :meth:`Control.resume`, :meth:`Control.flatten`) are audited in
``trading.control_audit`` (who, when, what; outcome ``published``) and published on the bot's
stream ``commands:{bot_id}``. The bot, in its own process, reads that stream through a consumer
group (:mod:`alphadesk.engine.command_inbox`), applies the command to its own kill switch and
through its own order path, persists the new state, shows it in ``bot:{bot_id}:status`` and
``trading.bots.status``, acknowledges the entry and writes the outcome into the audit row. A bot
that is down finds the command waiting when it starts. ``halt`` means REDUCING, the kill switch's
"no new positions, exits still managed" (HALTED would also freeze the bot's exits and stops);
``flatten`` is a halt plus an explicit exit of every open position by the bot itself.

A bot is named by its id (``shortseller_001``) or, when exactly one bot runs it, by its
strategy name (``shortseller``); anything else raises :class:`UnknownBot`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alphadesk.analytics import summary
from alphadesk.analytics.curve import EquityPoint, curve_arrays
from alphadesk.domain import checks
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.commands import CommandKind, ControlCommand
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.roundtrips import RoundTrip, match
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.clock import utc_now
from alphadesk.engine.control_ports import (
    AuditEntry,
    AuditLog,
    ControlLedger,
    FillReader,
    HealthSource,
    ListenerSnapshot,
    RoundTripReader,
    SyncReader,
    VenueReconcile,
)
from alphadesk.engine.control_views import (
    PERIODS,
    AnalyticsView,
    AuditLine,
    BalanceLine,
    BalancesView,
    BotStatusLine,
    CommandQueue,
    CommandReceipt,
    CommandsUnreachable,
    CurveSource,
    DeskStatus,
    DifferenceView,
    EquityPointView,
    HealthView,
    ListenerAccount,
    ListenerLine,
    PerformanceView,
    Period,
    PnlRow,
    PnlTable,
    PositionView,
    PriceBar,
    PriceHistory,
    ReconcileView,
    RoundTripPage,
    RoundTripView,
    StrategyLine,
    SymbolLine,
    SyncLine,
    UnknownBot,
)
from alphadesk.engine.ports import StoredRoundTrip
from alphadesk.engine.state_ports import (
    BotStatusStore,
    CommandStreams,
    EventStream,
    MarketStateStore,
    PositionStore,
)
from alphadesk.strategies.api import TradingState

ZERO = Decimal(0)
#: The consumer group every bot reads its command stream with (one consumer: the bot itself).
COMMAND_GROUP = "bot"
_STATES = {
    "active": TradingState.ACTIVE,
    "reducing": TradingState.REDUCING,
    "halted": TradingState.HALTED,
}
_SYNC_ROWS = 20
#: Most bars one price history answers, and how many newest ``events:bars`` entries (all
#: symbols) it scans to find them: the stream is shared, so a symbol's bars are interleaved.
MAX_PRICE_BARS = 5_000
PRICE_SCAN = 50_000
_TOP_SYMBOLS = 5


@dataclass
class Control:
    """All async; the collaborators are ports, wired in ``alphadesk.app.control``."""

    ledger: ControlLedger
    fills: FillReader
    trips: RoundTripReader
    audit: AuditLog
    live_positions: PositionStore
    markets: MarketStateStore
    bot_status: BotStatusStore
    commands: CommandStreams
    sync: SyncReader | None = None
    health_source: HealthSource | None = None
    venue: VenueReconcile | None = None
    clock: Callable[[], datetime] = utc_now
    stale_after_s: float = 60.0
    """A heartbeat (or a listener snapshot) older than this counts as not alive."""
    bars: EventStream[Bar] | None = None
    """The listener's closed bars (``events:bars``): the price history of :meth:`price_history`."""
    bars_page: int = 2_000
    """Entries per ``events:bars`` read while looking back for one symbol's bars."""
    commands_unreachable: str = ""
    """Why commands cannot reach a bot from here (set by the wiring when the command streams are
    a private in-process bus no bot reads: no ``REDIS_URL``); commands are then refused, and
    audited as refused, rather than published where nobody will ever read them."""

    # -- naming ---------------------------------------------------------------------------------

    async def bots(self) -> list[str]:
        """Bot ids known to the ledger (``trading.bots``)."""
        return [r.bot_id for r in await self.ledger.bots()]

    async def resolve(self, name: str) -> str:
        """A bot id from an id or an unambiguous strategy name; :class:`UnknownBot` otherwise."""
        return (await self._records(name))[0].bot_id

    async def _records(self, name: str | None) -> list[BotRecord]:
        records = await self.ledger.bots()
        if name is None:
            return records
        if not isinstance(name, str) or not name.strip():
            raise UnknownBot(name, tuple(r.bot_id for r in records))
        wanted = name.strip()
        for record in records:
            if record.bot_id == wanted:
                return [record]
        by_strategy = [
            r for r in records if wanted.lower() in (r.strategy_name.lower(), r.bot_type.lower())
        ]
        if len(by_strategy) == 1:
            return by_strategy
        raise UnknownBot(name, tuple(r.bot_id for r in records))

    # -- prices ---------------------------------------------------------------------------------

    async def price_history(self, symbol: str, limit: int = 500) -> PriceHistory:
        """The newest ``limit`` closed bars of ``symbol`` from the live state's bar stream (never
        the exchange), oldest first, one per open time, at the interval of the newest bar."""
        symbol = checks.key_part("symbol", symbol, max_len=64)
        wrong_type = isinstance(limit, bool) or not isinstance(limit, int)
        if wrong_type or not 1 <= limit <= MAX_PRICE_BARS:
            raise InvalidField("limit", limit, f"must be an int from 1 to {MAX_PRICE_BARS}")
        if self.bars is None:
            return PriceHistory(symbol, None, ())
        picked: dict[int, Bar] = {}
        interval: int | None = None
        before: str | None = None
        for _ in range(0, PRICE_SCAN, self.bars_page):
            page = await self.bars.recent(self.bars_page, before=before)  # newest first
            for delivery in page:
                bar = delivery.event
                if bar.symbol != symbol:
                    continue
                if interval is None:
                    interval = bar.interval_min
                if bar.interval_min != interval or bar.open_time_ms in picked:
                    continue  # another timeframe, or an older copy of a bar already taken
                picked[bar.open_time_ms] = bar
            if len(picked) >= limit or len(page) < self.bars_page:
                break
            before = page[-1].id
        newest = sorted(picked.values(), key=lambda b: b.open_time_ms)[-limit:]
        rows = tuple(
            PriceBar(
                time=bar.open_time,
                open=Decimal(repr(bar.open)),
                high=Decimal(repr(bar.high)),
                low=Decimal(repr(bar.low)),
                close=Decimal(repr(bar.close)),
            )
            for bar in newest
        )
        return PriceHistory(symbol, interval, rows)

    # -- status ---------------------------------------------------------------------------------

    async def status(self, bot: str | None = None) -> DeskStatus:
        records = await self._records(bot)
        now = self.clock()
        positions = await self.positions_of(records)
        counts: dict[str, int] = defaultdict(int)
        for p in positions:
            counts[p.bot_id] += 1
        equity = await self.ledger.latest_equity()
        today = now.astimezone(UTC).date()
        pnl_today: dict[str, Decimal] = defaultdict(lambda: ZERO)
        pnl_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for trip in await self.trips.list_round_trips(bot_id=_one(bot, records)):
            pnl_total[trip.bot_id] += trip.net_pnl
            if trip.exit_time.astimezone(UTC).date() == today:
                pnl_today[trip.bot_id] += trip.net_pnl
        lines: list[BotStatusLine] = []
        for record in records:
            live_status = await self.bot_status.get_status(record.bot_id)
            word = live_status or record.status
            beat = await self.bot_status.last_heartbeat(record.bot_id) or record.last_heartbeat
            age = (now - beat).total_seconds() if beat is not None else None
            snapshot = equity.get(record.bot_id)
            lines.append(
                BotStatusLine(
                    bot_id=record.bot_id,
                    strategy=record.strategy_name,
                    mode=record.deployment_mode,
                    status=word,
                    trading_state=_STATES.get(word),
                    heartbeat_age_s=age,
                    alive=age is not None and age <= self.stale_after_s and word != "stopped",
                    open_positions=counts[record.bot_id],
                    equity=snapshot.equity if snapshot is not None else record.current_equity,
                    sync=await self._sync_line(record.bot_id),
                    today_pnl=pnl_today[record.bot_id],
                    total_pnl=pnl_total[record.bot_id],
                )
            )
        listener = await self._listener(now)
        return DeskStatus(
            at=now,
            bots=tuple(lines),
            listener=listener,
            total_open_positions=sum(line.open_positions for line in lines),
            total_equity=sum((line.equity or ZERO for line in lines), ZERO),
            alive=sum(1 for line in lines if line.alive),
            today_pnl=sum((line.today_pnl for line in lines), ZERO),
            total_pnl=sum((line.total_pnl for line in lines), ZERO),
        )

    async def _sync_line(self, bot_id: str) -> SyncLine:
        if self.sync is None:
            return SyncLine(None, None, 0, "")
        rows = await self.sync.recent(bot_id, _SYNC_ROWS)
        done = [r for r in rows if r.status == "completed" and r.sync_completed_at is not None]
        failed = [r for r in rows if r.status == "failed"]
        return SyncLine(
            last_sync=max((r.sync_completed_at for r in done if r.sync_completed_at), default=None),
            covered_until=max((r.end_time for r in done), default=None),
            recent_errors=len(failed),
            last_error=(failed[0].error_message or "") if failed else "",
        )

    async def _listener(self, now: datetime) -> ListenerLine | None:
        if self.health_source is None:
            return None
        snapshot: ListenerSnapshot | None = await self.health_source.listener()
        if snapshot is None:
            return None
        age = (now - snapshot.at).total_seconds()
        problems = list(snapshot.problems)
        if age > self.stale_after_s:
            problems.append(f"listener health snapshot is {age:.0f} s old (is it running?)")
        return ListenerLine(
            at=snapshot.at,
            age_s=age,
            healthy=snapshot.healthy and age <= self.stale_after_s,
            problems=tuple(problems),
            accounts=tuple(
                ListenerAccount(
                    a.account,
                    a.connected,
                    a.last_message_age_s,
                    a.last_exec_time,
                    a.gap_fill_failures,
                )
                for a in snapshot.accounts
            ),
            spool_depth=max((a.spool_depth for a in snapshot.accounts), default=0),
            dead_letters=snapshot.dead_letters,
        )

    # -- positions and balances -----------------------------------------------------------------

    async def positions(self, bot: str | None = None) -> list[PositionView]:
        return await self.positions_of(await self._records(bot))

    async def positions_of(self, records: Sequence[BotRecord]) -> list[PositionView]:
        """Open positions from the live state; a bot it holds nothing for (the cache was
        flushed, or the caller has no ``REDIS_URL``) is read from ``trading.positions``."""
        raw: list[tuple[str, str, Side, Decimal, Decimal, Decimal, datetime | None, bool]] = []
        ledger_rows = None
        for record in records:
            live = await self.live_positions.positions(record.bot_id)
            if live:
                for state in live.values():
                    if state.side is not None and state.size > 0:
                        raw.append(
                            (
                                state.bot_id,
                                state.symbol,
                                state.side,
                                state.size,
                                state.avg_price,
                                state.unrealized_pnl,
                                state.updated_at,
                                True,
                            )
                        )
                continue
            if ledger_rows is None:
                ledger_rows = await self.ledger.open_positions()
            for row in ledger_rows:
                if row.bot_id == record.bot_id:
                    raw.append(
                        (
                            row.bot_id,
                            row.symbol,
                            row.side,
                            row.size,
                            row.avg_price,
                            ZERO,
                            row.updated_at,
                            False,
                        )
                    )
        marks = await self.markets.get_prices(sorted({r[1] for r in raw}))
        views = []
        for bot_id, symbol, side, size, avg, stored_upnl, updated, live_row in raw:
            mark = marks.get(symbol)
            upnl = (mark - avg) * size * side.sign if mark is not None else stored_upnl
            views.append(
                PositionView(
                    bot_id=bot_id,
                    symbol=symbol,
                    side=side,
                    size=size,
                    avg_price=avg,
                    mark_price=mark,
                    unrealized_pnl=upnl,
                    notional=size * (mark if mark is not None else avg),
                    updated_at=updated,
                    source="live" if live_row else "ledger",
                )
            )
        return sorted(views, key=lambda v: (v.bot_id, v.symbol))

    async def balances(self, bot: str | None = None) -> BalancesView:
        records = await self._records(bot)
        snapshots = await self.ledger.latest_equity()
        lines = []
        for record in records:
            snap = snapshots.get(record.bot_id)
            if snap is not None:
                lines.append(
                    BalanceLine(
                        record.bot_id,
                        snap.equity,
                        snap.wallet_balance,
                        snap.available_balance,
                        snap.unrealized_pnl,
                        snap.at,
                        "venue",
                    )
                )
            elif record.current_equity is not None:
                lines.append(
                    BalanceLine(
                        record.bot_id,
                        record.current_equity,
                        None,
                        None,
                        None,
                        record.last_heartbeat,
                        "bot",
                    )
                )
            else:
                lines.append(BalanceLine(record.bot_id, None, None, None, None, None, "none"))

        def total(values: Iterable[Decimal | None]) -> Decimal:
            return sum((v for v in values if v is not None), ZERO)

        return BalancesView(
            at=self.clock(),
            bots=tuple(lines),
            total_equity=total(line.equity for line in lines),
            total_wallet_balance=total(line.wallet_balance for line in lines),
            total_available_balance=total(line.available_balance for line in lines),
            total_unrealized_pnl=total(line.unrealized_pnl for line in lines),
        )

    # -- analytics and performance --------------------------------------------------------------

    async def analytics(self, bot: str | None = None) -> AnalyticsView:
        records = await self._records(bot)
        ids = {r.bot_id for r in records}
        tallies = [t for t in await self.ledger.fill_tallies() if t.bot_id in ids]
        trips = [
            t
            for t in await self.trips.list_round_trips(bot_id=_one(bot, records))
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

    async def performance(self, bot: str | None = None) -> PerformanceView:
        records = await self._records(bot)
        ids = {r.bot_id for r in records}
        one = _one(bot, records)
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

    # -- PnL tables and round trips -------------------------------------------------------------

    async def pnl_table(self, period: Period, bot: str | None = None, rows: int = 7) -> PnlTable:
        if period not in PERIODS:
            raise InvalidField("period", period, f"must be one of {', '.join(PERIODS)}")
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 366:
            raise InvalidField("rows", rows, "must be an int from 1 to 366")
        records = await self._records(bot)
        ids = {r.bot_id for r in records}
        trips = [
            t
            for t in await self.trips.list_round_trips(bot_id=_one(bot, records))
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
            period=period, bot=_one(bot, records), rows=table, total=_pnl_row(oldest, shown)
        )

    async def trades(self, bot: str | None = None, n: int = 10) -> list[RoundTripView]:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InvalidField("n", n, "must be an int from 1 to 1000")
        records = await self._records(bot)
        ids = {r.bot_id for r in records}
        one = _one(bot, records)
        # every bot with round trips has a trading.bots row (the store registers a placeholder)
        found = await self.trips.list_round_trips(bot_id=one, limit=n)
        return [_trip_view(t) for t in found if t.bot_id in ids][:n]

    async def trade_page(
        self,
        bot: str | None = None,
        *,
        n: int = 50,
        offset: int = 0,
        symbol: str | None = None,
        side: Side | None = None,
        exit_reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> RoundTripPage:
        """Round trips matching every filter given (``since``/``until`` bound the exit time,
        ``until`` excluded), newest close first, ``n`` from ``offset``: a dashboard's paged and
        filtered table over the whole ledger."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InvalidField("n", n, "must be an int from 1 to 1000")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidField("offset", offset, "must be an int >= 0")
        for name, moment in (("since", since), ("until", until)):
            if moment is not None:
                checks.utc(name, moment)
        if side is not None:
            side = Side.parse(side, "side")
        records = await self._records(bot)
        ids = {r.bot_id for r in records}
        found = [
            t
            for t in await self.trips.list_round_trips(bot_id=_one(bot, records), symbol=symbol)
            if t.bot_id in ids
            and (side is None or t.entry_side is side)
            and (exit_reason is None or t.exit_reason == exit_reason)
            and (since is None or t.exit_time >= since)
            and (until is None or t.exit_time < until)
        ]
        page = tuple(_trip_view(t) for t in found[offset : offset + n])
        return RoundTripPage(total=len(found), offset=offset, trades=page)

    # -- health and reconcile -------------------------------------------------------------------

    async def health(self) -> HealthView:
        now = self.clock()
        records = await self.ledger.bots()
        listener = await self._listener(now)
        problems: list[str] = list(listener.problems) if listener is not None else []
        sync = []
        for record in records:
            line = await self._sync_line(record.bot_id)
            sync.append((record.bot_id, line))
            if line.recent_errors:
                problems.append(
                    f"{record.bot_id}: sync failed {line.recent_errors} of the "
                    f"last windows ({line.last_error})"
                )
        queues: list[CommandQueue] = []
        bus_error = ""
        try:
            for record in records:
                stream = self.commands.commands(record.bot_id)
                queues.append(
                    CommandQueue(
                        record.bot_id,
                        await stream.length(),
                        await stream.pending_count(COMMAND_GROUP),
                    )
                )
        except Exception as exc:  # the bus (Redis) is down: say so, answer the rest
            bus_error = f"{type(exc).__name__}: {exc}"[:300]
            problems.append(f"event bus unreachable ({bus_error})")
        return HealthView(
            at=now,
            healthy=not problems and (listener is None or listener.healthy),
            problems=tuple(problems),
            listener=listener,
            sync=tuple(sync),
            spool_depth=listener.spool_depth if listener is not None else 0,
            dead_letters=listener.dead_letters if listener is not None else 0,
            bus_ok=not bus_error,
            bus_error=bus_error,
            commands=tuple(queues),
        )

    async def reconcile(self, bot: str | None = None) -> ReconcileView:
        """The ledger against the venue, read-only: differences are shown, nothing repaired."""
        records = await self._records(bot)
        now = self.clock()
        if self.venue is None:
            return ReconcileView(
                now, False, "no venue reader: reconcile needs a bot with an API key", (), ()
            )
        reports = await self.venue.compare([r.bot_id for r in records])
        diffs = tuple(
            DifferenceView(d.kind.value, d.account, d.symbol, d.ref, d.ledger, d.venue)
            for report in reports
            for d in report.differences
        )
        note = "ledger and venue agree" if not diffs else f"{len(diffs)} differences"
        return ReconcileView(now, True, note, tuple(r.account for r in reports), diffs)

    # -- commands -------------------------------------------------------------------------------

    async def halt(self, bot: str, actor: str) -> CommandReceipt:
        return await self._command(CommandKind.HALT, bot, actor)

    async def resume(self, bot: str, actor: str) -> CommandReceipt:
        return await self._command(CommandKind.RESUME, bot, actor)

    async def flatten(self, bot: str, actor: str) -> CommandReceipt:
        return await self._command(CommandKind.FLATTEN, bot, actor)

    async def reduce(self, bot: str, actor: str, reason: str) -> CommandReceipt:
        """REDUCING for a desk reason (``alphadesk reconcile --repair``)."""
        return await self._command(CommandKind.REDUCE, bot, actor, reason)

    async def _command(
        self, kind: CommandKind, bot: str, actor: str, reason: str = ""
    ) -> CommandReceipt:
        now = self.clock()
        command_id = uuid.uuid4().hex
        try:
            bot_id = await self.resolve(bot)
        except UnknownBot as exc:
            await self.audit.record(
                AuditEntry(
                    command_id,
                    now,
                    actor,
                    str(bot)[:100],
                    kind.value,
                    f"refused: {exc.reason}"[:500],
                )
            )
            raise
        if self.commands_unreachable:
            refusal = f"refused: {self.commands_unreachable}"[:500]
            await self.audit.record(AuditEntry(command_id, now, actor, bot_id, kind.value, refusal))
            raise CommandsUnreachable(self.commands_unreachable)
        command = ControlCommand(command_id, bot_id, kind, actor, now, reason)
        args = {"reason": reason} if reason else {}
        await self.audit.record(
            AuditEntry(command_id, now, actor, bot_id, kind.value, "published", args)
        )
        try:
            (entry_id,) = await self.commands.commands(bot_id).publish([command])
        except Exception as exc:
            await self.audit.set_outcome(command_id, f"failed: not published ({exc})"[:500], now)
            raise
        record = (await self._records(bot_id))[0]
        word = await self.bot_status.get_status(bot_id) or record.status
        beat = await self.bot_status.last_heartbeat(bot_id) or record.last_heartbeat
        alive = (
            word != "stopped"
            and beat is not None
            and (now - beat).total_seconds() <= self.stale_after_s
        )
        return CommandReceipt(command_id, bot_id, kind, actor, now, entry_id, alive)

    async def audit_log(self, bot: str | None = None, limit: int = 20) -> list[AuditLine]:
        """The newest audited commands (of one bot, or the desk's)."""
        bot_id = await self.resolve(bot) if bot is not None else None
        entries = await self.audit.recent(bot_id=bot_id, limit=limit)
        return [
            AuditLine(
                e.command_id,
                e.at,
                e.actor,
                e.bot_id,
                e.command,
                ", ".join(f"{k}={v}" for k, v in sorted(e.args.items())),
                e.outcome,
                e.applied_at,
            )
            for e in entries
        ]


# -- pure helpers -------------------------------------------------------------------------------


def _one(bot: str | None, records: Sequence[BotRecord]) -> str | None:
    """The bot id when the question names one bot."""
    return records[0].bot_id if bot is not None and len(records) == 1 else None


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
