"""The control facade's live desk: each bot's status line, its open positions and balances.

Live figures come from the live state (status words, heartbeats, positions, marks); a bot the
live state holds nothing for (the cache was flushed, or the caller has no ``REDIS_URL``) is
read from the ledger (``trading.positions``, ``trading.bots``, ``trading.equity``) instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from alphadesk.domain.enums import Side
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.control_health import DeskHealth
from alphadesk.engine.control_names import find_bots, one_bot
from alphadesk.engine.control_ports import ControlLedger, RoundTripReader
from alphadesk.engine.control_views import (
    BalanceLine,
    BalancesView,
    BotStatusLine,
    DeskStatus,
    PositionView,
)
from alphadesk.engine.state_ports import BotStatusStore, MarketStateStore, PositionStore
from alphadesk.strategies.api import TradingState

ZERO = Decimal(0)
_STATES = {
    "active": TradingState.ACTIVE,
    "reducing": TradingState.REDUCING,
    "halted": TradingState.HALTED,
}


@dataclass(frozen=True, slots=True)
class DeskStatusReads:
    """Status, positions and balances; the facade builds one from its ports."""

    ledger: ControlLedger
    trips: RoundTripReader
    live_positions: PositionStore
    markets: MarketStateStore
    bot_status: BotStatusStore
    health: DeskHealth
    clock: Callable[[], datetime]
    stale_after_s: float

    async def status(self, bot: str | None) -> DeskStatus:
        records = await find_bots(self.ledger, bot)
        now = self.clock()
        positions = await self.positions_of(records)
        counts: dict[str, int] = defaultdict(int)
        for p in positions:
            counts[p.bot_id] += 1
        equity = await self.ledger.latest_equity()
        today = now.astimezone(UTC).date()
        pnl_today: dict[str, Decimal] = defaultdict(lambda: ZERO)
        pnl_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for trip in await self.trips.list_round_trips(bot_id=one_bot(bot, records)):
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
                    sync=await self.health.sync_line(record.bot_id),
                    today_pnl=pnl_today[record.bot_id],
                    total_pnl=pnl_total[record.bot_id],
                )
            )
        listener = await self.health.listener(now)
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

    async def positions(self, bot: str | None) -> list[PositionView]:
        return await self.positions_of(await find_bots(self.ledger, bot))

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

    async def balances(self, bot: str | None) -> BalancesView:
        records = await find_bots(self.ledger, bot)
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
