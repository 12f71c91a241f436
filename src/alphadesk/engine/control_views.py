"""What the control facade answers with: plain frozen values a renderer prints as they are.

Telegram, the ``alphadesk control`` CLI and (later) the web dashboard render these and never
compute a figure themselves, so the same question gets the same number everywhere. Money is
``Decimal``, times are UTC ``datetime``, ages are seconds as ``float``. Every ``...View`` of a
desk-wide question carries per-bot lines and the totals over them; a question about one bot
(``bot=...``) gives the same shape with that bot's line alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from alphadesk.analytics.summary import Metrics
from alphadesk.domain.commands import CommandKind
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies.api import TradingState

Period = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[Period, ...] = ("daily", "weekly", "monthly")
CurveSource = Literal["venue", "trades", "none"]


class UnknownBot(InvalidField):
    """A bot name the desk does not know (nor, as a strategy name, unambiguously)."""

    def __init__(self, name: object, known: tuple[str, ...] = ()) -> None:
        listed = ", ".join(known) if known else "none registered"
        super().__init__("bot", name, f"is not a known bot (known: {listed})")
        self.known = known


class CommandsUnreachable(ValueError):
    """A command that could reach no bot from here (no shared command bus); nothing was sent."""


# -- status -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncLine:
    """A bot's ``alphadesk sync`` as ``trading.sync_status`` tells it."""

    last_sync: datetime | None
    """When the newest completed window finished; None when never synced."""
    covered_until: datetime | None
    """The end of the newest completed window: how far the ledger holds the venue's history."""
    recent_errors: int
    """Failed windows among the recent rows (the last 20)."""
    last_error: str


@dataclass(frozen=True, slots=True)
class BotStatusLine:
    bot_id: str
    strategy: str
    mode: str
    """``deployment_mode``: paper, demo, testnet or live."""
    status: str
    """The bot's word: ``bot:{bot_id}:status`` when the live state has it, else
    ``trading.bots.status`` (active, reducing, halted, stopped)."""
    trading_state: TradingState | None
    """The kill switch's state the status word says; None for a stopped bot."""
    heartbeat_age_s: float | None
    alive: bool
    """A heartbeat newer than the facade's ``stale_after_s`` and not stopped."""
    open_positions: int
    equity: Decimal | None
    sync: SyncLine
    today_pnl: Decimal = Decimal(0)
    """Net PnL of the round trips closed today (UTC day of the facade's clock)."""
    total_pnl: Decimal = Decimal(0)
    """Net PnL of every round trip the ledger holds for the bot."""


@dataclass(frozen=True, slots=True)
class ListenerLine:
    """The listener's health snapshot (its ``--health-file``), as of ``at``."""

    at: datetime
    age_s: float
    healthy: bool
    """The listener's own verdict, and the snapshot is fresh (younger than ``stale_after_s``)."""
    problems: tuple[str, ...]
    accounts: tuple[ListenerAccount, ...]
    spool_depth: int
    dead_letters: int


@dataclass(frozen=True, slots=True)
class ListenerAccount:
    account: str
    connected: bool
    last_message_age_s: float | None
    last_exec_time: datetime | None
    gap_fill_failures: int


@dataclass(frozen=True, slots=True)
class DeskStatus:
    at: datetime
    bots: tuple[BotStatusLine, ...]
    listener: ListenerLine | None
    """None when no listener health snapshot is found (no listener runs, or paper only)."""
    total_open_positions: int
    total_equity: Decimal
    alive: int
    today_pnl: Decimal = Decimal(0)
    total_pnl: Decimal = Decimal(0)


# -- positions and balances -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionView:
    bot_id: str
    symbol: str
    side: Side
    size: Decimal
    avg_price: Decimal
    mark_price: Decimal | None
    """The live mark (``market:{symbol}:price``); None when the live state has none."""
    unrealized_pnl: Decimal
    """From the live mark; without one, what the live state last stored (0 from the ledger)."""
    notional: Decimal
    """size x mark (x average price without a mark)."""
    updated_at: datetime | None
    source: Literal["live", "ledger"]
    """``live``: the live state (Redis/in-process); ``ledger``: ``trading.positions``, used for
    a bot the live state holds nothing for (Redis flushed, or a CLI without ``REDIS_URL``)."""


@dataclass(frozen=True, slots=True)
class BalanceLine:
    bot_id: str
    equity: Decimal | None
    wallet_balance: Decimal | None
    available_balance: Decimal | None
    unrealized_pnl: Decimal | None
    at: datetime | None
    source: Literal["venue", "bot", "none"]
    """``venue``: the newest ``trading.equity`` snapshot (the venue's wallet, recorded by the
    listener); ``bot``: ``trading.bots.current_equity`` (the bot's own book, e.g. paper)."""


@dataclass(frozen=True, slots=True)
class BalancesView:
    at: datetime
    bots: tuple[BalanceLine, ...]
    total_equity: Decimal
    total_wallet_balance: Decimal
    total_available_balance: Decimal
    total_unrealized_pnl: Decimal


# -- analytics, performance, PnL tables, round trips ------------------------------------------


@dataclass(frozen=True, slots=True)
class StrategyLine:
    bot_id: str
    strategy: str
    fills: int
    volume: Decimal
    round_trips: int
    net_pnl: Decimal
    """Sum of the bot's round trips' net PnL (``trading.completed_trades``)."""


@dataclass(frozen=True, slots=True)
class SymbolLine:
    symbol: str
    fills: int
    volume: Decimal


@dataclass(frozen=True, slots=True)
class AnalyticsView:
    """The seed's ``/analytics``: total fills, volume, win rate; by strategy; top symbols."""

    total_fills: int
    """Trade executions in ``trading.fills`` (funding is not a fill)."""
    total_volume: Decimal
    """Sum of price x quantity over those fills, USDT."""
    round_trips: int
    wins: int
    losses: int
    win_rate: Decimal
    """wins / round trips (a fraction: 0.5 = 50 %); 0 without round trips."""
    net_pnl: Decimal
    fees: Decimal
    by_strategy: tuple[StrategyLine, ...]
    top_symbols: tuple[SymbolLine, ...]
    """By fill count, the most first (at most five)."""


@dataclass(frozen=True, slots=True)
class EquityPointView:
    at: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True)
class PerformanceView:
    bot: str | None
    metrics: Metrics | None
    """:func:`alphadesk.analytics.summary.compute` over the ledger's fills, their FIFO round trips
    and the equity curve; None when there is nothing to score (no fills)."""
    curve: tuple[EquityPointView, ...]
    curve_source: CurveSource
    """``venue``: ``trading.equity`` snapshots; ``trades``: initial capital plus each closed
    round trip's net PnL at its exit (no snapshots were recorded, e.g. paper)."""


@dataclass(frozen=True, slots=True)
class PnlRow:
    start: date
    """The first day of the period (a Monday for weeks, the 1st for months), UTC."""
    trades: int
    wins: int
    losses: int
    gross_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal


@dataclass(frozen=True, slots=True)
class PnlTable:
    period: Period
    bot: str | None
    rows: tuple[PnlRow, ...]
    """The newest ``rows`` periods up to today, newest first, empty periods included."""
    total: PnlRow
    """Over the rows shown (``start`` is the oldest row's)."""


@dataclass(frozen=True, slots=True)
class RoundTripView:
    trade_id: str
    bot_id: str
    symbol: str
    side: Side
    """The entry's side: Buy = long."""
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    gross_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    holding_seconds: int
    exit_reason: str


@dataclass(frozen=True, slots=True)
class RoundTripPage:
    """One page of round trips matching a filter, newest close first; ``total`` counts every
    match, so a page of a dashboard table knows how many pages there are."""

    total: int
    offset: int
    trades: tuple[RoundTripView, ...]


# -- health, reconcile, commands --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandQueue:
    bot_id: str
    length: int
    """Entries on ``commands:{bot_id}``."""
    pending: int
    """Delivered to the bot and not acknowledged yet."""


@dataclass(frozen=True, slots=True)
class HealthView:
    at: datetime
    healthy: bool
    problems: tuple[str, ...]
    listener: ListenerLine | None
    sync: tuple[tuple[str, SyncLine], ...]
    spool_depth: int
    dead_letters: int
    bus_ok: bool
    bus_error: str
    commands: tuple[CommandQueue, ...]


@dataclass(frozen=True, slots=True)
class DifferenceView:
    kind: str
    account: str
    symbol: str
    ref: str
    ledger: str
    venue: str


@dataclass(frozen=True, slots=True)
class ReconcileView:
    """Read-only: what differs between the ledger and the venue; nothing was repaired."""

    at: datetime
    available: bool
    """False when this facade has no venue reader (no bot has an API key)."""
    note: str
    accounts: tuple[str, ...]
    differences: tuple[DifferenceView, ...]

    @property
    def equal(self) -> bool:
        return self.available and not self.differences


@dataclass(frozen=True, slots=True)
class CommandReceipt:
    id: str
    bot_id: str
    kind: CommandKind
    actor: str
    at: datetime
    entry_id: str
    """The entry on ``commands:{bot_id}``; the bot acknowledges it once applied."""
    bot_alive: bool
    """False: the bot is not running; it applies the command when it starts."""


@dataclass(frozen=True, slots=True)
class AuditLine:
    command_id: str
    at: datetime
    actor: str
    bot_id: str
    command: str
    args: str
    outcome: str
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class PriceBar:
    """One closed bar as the listener published it on ``events:bars`` (prices as Decimal)."""

    time: datetime
    """The bar's open time (UTC)."""
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True)
class PriceHistory:
    """A symbol's recent closed bars, oldest first; empty when the live state knows none."""

    symbol: str
    interval_min: int | None
    bars: tuple[PriceBar, ...]
