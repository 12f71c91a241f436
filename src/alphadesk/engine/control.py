"""The control facade: every question about the desk and every command to a bot, in one place.

Telegram, the ``alphadesk control`` CLI and the web dashboard call this and only parse and
render (:mod:`alphadesk.engine.control_views`). This module holds the ports and one method per
question; each family of questions is answered by a small part built from those ports:
``control_status`` (status, positions, balances), ``control_performance`` (analytics,
performance), ``control_trades`` (PnL tables, round trips), ``control_health`` (health,
reconcile), ``control_prices`` (price history), ``control_commands`` (commands, their audit).
Figures come from the ledger (``trading.*`` through :mod:`alphadesk.engine.control_ports` and
the fill and round-trip stores) and from the live state (positions, marks, bot status and
heartbeats), never from the exchange; the one exception is :meth:`Control.reconcile`, whose
purpose is to compare the ledger with the venue, and which never repairs anything.

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
strategy name (``shortseller``); anything else raises :class:`UnknownBot`
(:mod:`alphadesk.engine.control_names`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from alphadesk.domain.bars import Bar
from alphadesk.domain.commands import CommandKind
from alphadesk.domain.enums import Side
from alphadesk.engine.clock import utc_now
from alphadesk.engine.control_commands import CommandDesk
from alphadesk.engine.control_health import DeskHealth
from alphadesk.engine.control_names import find_bots
from alphadesk.engine.control_performance import PerformanceReads
from alphadesk.engine.control_ports import (
    AuditLog,
    ControlLedger,
    FillReader,
    HealthSource,
    RoundTripReader,
    SyncReader,
    VenueReconcile,
)
from alphadesk.engine.control_prices import price_history
from alphadesk.engine.control_status import DeskStatusReads
from alphadesk.engine.control_trades import TradeReads, TripFilter
from alphadesk.engine.control_views import (
    AnalyticsView,
    AuditLine,
    BalancesView,
    CommandReceipt,
    DeskStatus,
    HealthView,
    PerformanceView,
    Period,
    PnlTable,
    PositionView,
    PriceHistory,
    ReconcileView,
    RoundTripPage,
    RoundTripView,
)
from alphadesk.engine.state_ports import (
    BotStatusStore,
    CommandStreams,
    EventStream,
    MarketStateStore,
    PositionStore,
)


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

    # -- the parts, built from the ports on each call (so a field set later is honoured) -----

    def _health(self) -> DeskHealth:
        return DeskHealth(
            self.ledger, self.commands, self.sync, self.health_source, self.venue, self.clock,
            self.stale_after_s,
        )

    def _status(self) -> DeskStatusReads:
        return DeskStatusReads(
            self.ledger, self.trips, self.live_positions, self.markets, self.bot_status,
            self._health(), self.clock, self.stale_after_s,
        )

    def _trades(self) -> TradeReads:
        return TradeReads(self.ledger, self.trips, self.clock)

    def _commands(self) -> CommandDesk:
        return CommandDesk(
            self.ledger, self.audit, self.commands, self.bot_status, self.clock,
            self.stale_after_s, self.commands_unreachable,
        )

    # -- naming ---------------------------------------------------------------------------------

    async def bots(self) -> list[str]:
        """Bot ids known to the ledger (``trading.bots``)."""
        return [r.bot_id for r in await self.ledger.bots()]

    async def resolve(self, name: str) -> str:
        """A bot id from an id or an unambiguous strategy name; :class:`UnknownBot` otherwise."""
        return (await find_bots(self.ledger, name))[0].bot_id

    # -- questions ------------------------------------------------------------------------------

    async def price_history(self, symbol: str, limit: int = 500) -> PriceHistory:
        """The newest ``limit`` closed bars of ``symbol`` from the live state's bar stream (never
        the exchange), oldest first, one per open time, at the interval of the newest bar."""
        return await price_history(self.bars, symbol, limit, self.bars_page)

    async def status(self, bot: str | None = None) -> DeskStatus:
        return await self._status().status(bot)

    async def positions(self, bot: str | None = None) -> list[PositionView]:
        return await self._status().positions(bot)

    async def balances(self, bot: str | None = None) -> BalancesView:
        return await self._status().balances(bot)

    async def analytics(self, bot: str | None = None) -> AnalyticsView:
        return await PerformanceReads(self.ledger, self.fills, self.trips).analytics(bot)

    async def performance(self, bot: str | None = None) -> PerformanceView:
        return await PerformanceReads(self.ledger, self.fills, self.trips).performance(bot)

    async def pnl_table(self, period: Period, bot: str | None = None, rows: int = 7) -> PnlTable:
        return await self._trades().pnl_table(period, bot, rows)

    async def trades(self, bot: str | None = None, n: int = 10) -> list[RoundTripView]:
        return await self._trades().trades(bot, n)

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
        ``until`` excluded), newest close first, ``n`` from ``offset``."""
        wanted = TripFilter(symbol, side, exit_reason, since, until)
        return await self._trades().trade_page(bot, n, offset, wanted)

    async def health(self) -> HealthView:
        return await self._health().health()

    async def reconcile(self, bot: str | None = None) -> ReconcileView:
        """The ledger against the venue, read-only: differences are shown, nothing repaired."""
        return await self._health().reconcile(bot)

    # -- commands -------------------------------------------------------------------------------

    async def halt(self, bot: str, actor: str) -> CommandReceipt:
        return await self._commands().send(CommandKind.HALT, bot, actor)

    async def resume(self, bot: str, actor: str) -> CommandReceipt:
        return await self._commands().send(CommandKind.RESUME, bot, actor)

    async def flatten(self, bot: str, actor: str) -> CommandReceipt:
        return await self._commands().send(CommandKind.FLATTEN, bot, actor)

    async def reduce(self, bot: str, actor: str, reason: str) -> CommandReceipt:
        """REDUCING for a desk reason (``alphadesk reconcile --repair``)."""
        return await self._commands().send(CommandKind.REDUCE, bot, actor, reason)

    async def audit_log(self, bot: str | None = None, limit: int = 20) -> list[AuditLine]:
        """The newest audited commands (of one bot, or the desk's)."""
        return await self._commands().audit_log(bot, limit)
