"""The Engine: one bot's strategy, portfolio, risk gate and router, driven bar by bar.

It is synchronous and knows nothing about where bars come from or where orders go: the backtest
drives it from arrays with a simulated clock, a live runner from a market feed, and both hand it
the venue's reports (:meth:`Engine.on_fill`, :meth:`Engine.on_order`). The per-bar path is two
attribute writes and the strategy call; everything Decimal happens only when an intent, fill or
kill-switch check needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from heapq import heappush
from typing import Final

from alphadesk.domain import order_link
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import plain_intent_fields, plain_positive
from alphadesk.domain.enums import Side
from alphadesk.domain.epoch import epoch_ms
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import (
    ONE,
    SIZE_HINTS,
    EnterIntent,
    ExitIntent,
    Intent,
    SizeHint,
    TakeProfitLevel,
    TrailingSpec,
    make_enter_intent,
    make_exit_intent,
)
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.portfolio import Portfolio
from alphadesk.engine.ports import OrderGateway, StateStore
from alphadesk.engine.risk import Refusal, RiskGate, RiskLimits
from alphadesk.engine.router import Router
from alphadesk.engine.trading_state import (
    KillSwitch,
    KillSwitchLimits,
    MemoryStateStore,
    TradingState,
)
from alphadesk.strategies.api import PortfolioView, Row, Strategy
from alphadesk.strategies.context import IntentContext


def _listens(strategy: Strategy[object], hook: str) -> bool:
    """Whether ``strategy`` overrides ``hook`` (its class or the object itself): the base
    class's version does nothing, so calling it can be left out."""
    own = getattr(type(strategy), hook, None)
    return own is not getattr(Strategy, hook) or hook in getattr(strategy, "__dict__", {})


ZERO: Final = Decimal(0)
# C statics on the compiled build, where an imported name is a dict lookup per read
_ONE: Final = ONE
_SIDE: Final = Side
_SIZE_HINTS: Final = SIZE_HINTS


class EngineContext(IntentContext):
    """The strategy's context: intents go straight to the router, stamped with the bar time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._bot_id = engine.bot_id
        self.time_ms = 0
        self.timers: list[tuple[int, str]] | None = None
        """``(time_ms, symbol)`` heap of :meth:`wake_at`, kept only when a driver that skips
        bars (the backtest) sets it to a list; None otherwise (every bar is delivered)."""

    @property
    def bot_id(self) -> str:
        return self._bot_id

    @property
    def now_ms(self) -> int:
        return self.time_ms

    @property
    def portfolio(self) -> PortfolioView:
        return self._engine.portfolio

    def submit(self, intent: Intent) -> None:
        self._engine.submit(intent)

    def wake_at(self, symbol: str, time_ms: int) -> None:
        timers = self.timers
        if timers is not None:
            heappush(timers, (time_ms, symbol))

    # enter and exit, the intents of every order: the same intents as the base class builds,
    # from the engine's own fields rather than through the properties, and handed straight to
    # the router (what Engine.submit does), with the values they were built from

    def enter(
        self,
        symbol: str,
        side: Side,
        size: SizeHint,
        reason: str,
        *,
        ref_price: Decimal,
        stop_loss: Decimal | None = None,
        take_profits: tuple[TakeProfitLevel, ...] = (),
        trailing: TrailingSpec | None = None,
    ) -> EnterIntent:
        time_ms, bot_id = self.time_ms, self._bot_id
        intent = make_enter_intent(
            time_ms, bot_id, symbol, side, size, reason, ref_price, stop_loss, take_profits,
            trailing,
        )  # fmt: skip
        levels: tuple[object, ...] = take_profits  # read untyped: no cast before the check
        if not (  # values EnterIntent.__post_init__ plainly accepts, else its checks:
            plain_intent_fields(time_ms, bot_id, symbol, reason)
            and isinstance(side, _SIDE)
            and isinstance(size, _SIZE_HINTS)
            and plain_positive(ref_price)
            and (stop_loss is None or plain_positive(stop_loss))
            and type(levels) is tuple
            # none, or one level: its own constructor refused a fraction above 1, so the sum
            # the intent checks is that fraction (two or more are summed by the intent)
            and (not levels or (len(levels) == 1 and type(levels[0]) is TakeProfitLevel))
            and (trailing is None or type(trailing) is TrailingSpec)
        ):
            intent.__post_init__()  # the constructor's checks, raising as it would
        engine = self._engine
        engine.intents.append(intent)
        # the intent holds these very values (its checks only raise): the router takes them as
        # they are rather than reading each back from the interpreted intent
        engine.router.enter_fields(
            intent, symbol, side, size, time_ms, reason, ref_price, stop_loss, take_profits,
            trailing,
        )  # fmt: skip
        return intent

    def exit(self, symbol: str, reason: str, fraction: Decimal = ONE) -> ExitIntent:
        time_ms, bot_id = self.time_ms, self._bot_id
        intent = make_exit_intent(time_ms, bot_id, symbol, reason, fraction)
        if not (  # values ExitIntent.__post_init__ plainly accepts, else its checks:
            plain_intent_fields(time_ms, bot_id, symbol, reason)
            and (
                fraction is _ONE
                or (plain_positive(fraction) and fraction <= _ONE)
            )
        ):
            intent.__post_init__()
        engine = self._engine
        engine.intents.append(intent)
        engine.router.exit_fields(symbol, time_ms, reason, fraction)  # the intent's values
        return intent


class Engine:
    def __init__(
        self,
        strategy: Strategy[object],
        *,
        bot_id: str,
        instruments: Mapping[str, Instrument],
        gateway: OrderGateway,
        initial_cash: Decimal,
        limits: RiskLimits | None = None,
        kill_limits: KillSwitchLimits | None = None,
        state_store: StateStore | None = None,
        desk_switch: KillSwitch | None = None,
    ) -> None:
        self.strategy = strategy
        self.bot_id = bot_id
        store = state_store if state_store is not None else MemoryStateStore()
        self.kill_switch = KillSwitch(f"bot:{bot_id}", store, kill_limits)
        self.portfolio = Portfolio(bot_id, initial_cash, state=lambda: self.risk.state)
        self.risk = RiskGate(
            bot_id,
            instruments,
            self.portfolio,
            limits=limits,
            kill_switch=self.kill_switch,
            desk_switch=desk_switch,
        )
        self.router = Router(bot_id, self.risk, self.portfolio, gateway, self.refusals_append)
        self.ctx = EngineContext(self)
        self.intents: list[Intent] = []
        self.refusals: list[Refusal] = []
        self.fills: list[Fill] = []
        self.watch_drawdown = self.kill_switch.limits.enabled or (
            desk_switch is not None and desk_switch.limits.enabled
        )
        # Events go to the strategy only when it listens: the base class's hooks do nothing.
        self._hears_fills = _listens(strategy, "on_fill")
        self._hears_closes = _listens(strategy, "on_bars_closed")

    def refusals_append(self, refusal: Refusal) -> None:
        self.refusals.append(refusal)

    # -- strategy side --------------------------------------------------------------------------

    def start(self, now_ms: int) -> None:
        self.ctx.time_ms = now_ms
        self.strategy.on_start(self.ctx)

    def on_bar(self, bar: Bar, row: Row) -> None:
        """One closed bar of one symbol (after the venue has walked it)."""
        self.ctx.time_ms = bar.open_time_ms + bar.interval_min * 60_000
        self.strategy.on_bar(self.ctx, bar, row)

    def on_bars_closed(self, close_ms: int) -> None:
        self.ctx.time_ms = close_ms
        if self._hears_closes:
            self.strategy.on_bars_closed(self.ctx, close_ms)

    def observe_equity(self, now_ms: int) -> TradingState:
        """Kill-switch check on equity including unrealised PnL at the last prices."""
        if not self.watch_drawdown:
            return self.risk.state
        return self.risk.observe_equity(now_ms, self.portfolio.equity_float())

    def stop(self, now_ms: int) -> None:
        """Stop the strategy. Positions stay open: stopping a bot never flattens it."""
        self.ctx.time_ms = now_ms
        self.strategy.on_stop(self.ctx)

    def submit(self, intent: Intent) -> None:
        self.intents.append(intent)
        self.router.route(intent)

    # -- owner commands -------------------------------------------------------------------------

    def command_exit(self, symbol: str, now_ms: int, reason: str = "manual_exit") -> object:
        """An owner's explicit exit: allowed in every state, HALTED included."""
        intent = ExitIntent(time_ms=now_ms, bot_id=self.bot_id, symbol=symbol, reason=reason)
        return self.router.route(intent, explicit=True)

    def command_state(self, state: TradingState, now_ms: int, reason: str) -> None:
        self.kill_switch.command(state, now_ms, reason)

    # -- venue reports --------------------------------------------------------------------------

    def fill_label(self, order_link_id: str) -> str:
        """The close reason a fill of ``order_link_id`` carries: the intent's reason the order
        was sent for (or the one its id encodes), "" when there is none. A venue that can make
        its fills with it (:meth:`MatchingEngine.label_fills`) spares :meth:`on_fill` a copy."""
        reason = self.router.reasons.get(order_link_id)
        if reason is None and order_link_id:
            reason = order_link.decode(order_link_id).reason
        return reason[:50] if reason else ""

    def on_fill(self, fill: Fill) -> None:
        """A fill of this bot: label it, fold it into the portfolio, tell router and strategy."""
        if fill.bot_id != self.bot_id:
            return
        link = fill.order_link_id  # once, for the label and the router
        if not fill.close_reason and link:  # no id (funding): no label to find
            reason = self.fill_label(link)
            if reason:
                fill = fill.relabelled(reason)
        self.fills.append(fill)
        time_ms = epoch_ms(fill.exec_time)  # once, for the three readers below
        self.portfolio.apply_at(fill, time_ms)
        self.router.on_fill_at(fill, link, time_ms)
        self.ctx.time_ms = time_ms
        if self._hears_fills:
            self.strategy.on_fill(self.ctx, fill)

    def awaits(self, order_link_id: str) -> bool:
        """Whether the router still waits to hear how the order ``order_link_id`` ended (an
        :meth:`on_order` about any other order changes nothing)."""
        return order_link_id in self.router.inflight

    def on_order(self, update: OrderUpdated) -> None:
        if not self.router.inflight:  # nothing in flight: the router has nothing to settle
            return
        if update.order.bot_id in (self.bot_id, "") or update.order.order_link_id:
            self.router.on_order(update)

    def on_reject(self, request: OrderRequest, reason: str, time_ms: int) -> None:
        self.router.reject(request.order_link_id, reason, time_ms)
