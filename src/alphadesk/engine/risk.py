"""The risk gate: turns intents into rounded venue requests, or refuses them with a reason.

Sizing follows the strategy's hint (fixed notional, equity fraction x leverage, or risk per stop
distance) against the equity *now*, at the intent's reference price, and is floored to the
instrument's qty step: a request never asks for more than the hint. Limits are per bot: max
notional per position and in total, max leverage (total notional / equity), max open positions,
and a cooldown between entries on one symbol. The bot's state (own kill switch and the desk's)
gates everything: REDUCING lets only exits through, HALTED lets nothing through except an exit
the owner commanded explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.grid import qty_for_notional as grid_qty_for_notional
from alphadesk.domain.grid import rounding_for, to_grid
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import (
    ONE,
    EnterIntent,
    EquityFraction,
    ExitIntent,
    NotionalSize,
    RiskFraction,
    SizeHint,
)
from alphadesk.engine.portfolio import Portfolio
from alphadesk.engine.trading_state import KillSwitch, TradingState, worst

ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Per-bot limits; None (or 0 for the cooldown) means no limit."""

    max_position_notional: Decimal | None = None
    max_total_notional: Decimal | None = None
    max_leverage: Decimal | None = None
    max_open_positions: int | None = None
    entry_cooldown_ms: int = 0

    def __post_init__(self) -> None:
        for name in ("max_position_notional", "max_total_notional", "max_leverage"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(f"risk.{name}", value)
        if self.max_open_positions is not None and (
            isinstance(self.max_open_positions, bool) or self.max_open_positions < 1
        ):
            raise InvalidField("risk.max_open_positions", self.max_open_positions, "must be >= 1")
        if self.entry_cooldown_ms < 0:
            raise InvalidField("risk.entry_cooldown_ms", self.entry_cooldown_ms, "must be >= 0")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the gate (or the venue) did not let an intent through; kept for reports."""

    time_ms: int
    symbol: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class Exposure:
    """What is already committed, as the router knows it (open plus in-flight)."""

    open_positions: int
    total_notional: Decimal


_NOTIONAL_SIZE: Final = NotionalSize
_EQUITY_FRACTION: Final = EquityFraction
_RISK_FRACTION: Final = RiskFraction
"""C statics on the compiled build, where an imported class name is a dict lookup per read."""


def hint_notional(hint: SizeHint, equity: Decimal) -> Decimal:
    """The notional (USDT) a size hint asks for at ``equity``."""
    if isinstance(hint, _NOTIONAL_SIZE):
        return hint.usdt
    if isinstance(hint, _EQUITY_FRACTION):
        return equity * hint.fraction * hint.leverage
    if isinstance(hint, _RISK_FRACTION):
        return equity * hint.notional_fraction()
    raise InvalidField("size", hint, "unknown size hint")


_ONE: Final = ONE  # the intents' default fraction: the very object, so ``is`` can answer
_ACTIVE: Final = TradingState.ACTIVE
_HALTED: Final = TradingState.HALTED
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
"""Bound once: on Python 3.11 an enum member read goes through EnumType.__getattr__'s hook."""


# Instrument's rounding methods, as compiled calls for the per-order path (the frozen Instrument
# stays interpreted: see scripts/build_native.py). A value its method's check passes is rounded
# here by the same arithmetic; anything else goes to the method, which refuses it by name.


def round_qty(instrument: Instrument, qty: Decimal) -> Decimal:
    """``instrument.round_qty(qty)``: floored to the qty step."""
    if checks.plain_non_negative(qty):  # checks.non_negative passes
        return to_grid(qty, instrument.qty_step, ROUND_FLOOR)
    return instrument.round_qty(qty)  # raises, naming the qty


def round_price(instrument: Instrument, price: Decimal, side: Side | None = None) -> Decimal:
    """``instrument.round_price(price, side)``: a buy's price floored, a sell's raised, else the
    nearest tick (half to even)."""
    if checks.plain_positive(price):  # checks.positive passes
        rounded = to_grid(price, instrument.tick_size, rounding_for(side))
        if rounded > ZERO:
            return rounded
    return instrument.round_price(price, side)  # raises, naming the price (and the tick)


def qty_for_notional(instrument: Instrument, notional: Decimal, price: Decimal) -> Decimal:
    """``instrument.qty_for_notional(notional, price)``: the largest qty step multiple whose
    value at ``price`` does not exceed ``notional`` (once per entry: the interpreted method's
    frame cost more than its four Decimal operations)."""
    if checks.plain_non_negative(notional) and checks.plain_positive(price):  # its check passes
        return grid_qty_for_notional(notional, price, instrument.qty_step)
    return instrument.qty_for_notional(notional, price)  # raises, naming the field


class RiskGate:
    def __init__(
        self,
        bot_id: str,
        instruments: Mapping[str, Instrument],
        portfolio: Portfolio,
        *,
        limits: RiskLimits | None = None,
        kill_switch: KillSwitch | None = None,
        desk_switch: KillSwitch | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.instruments = instruments
        self.portfolio = portfolio
        self.limits = limits or RiskLimits()
        self.kill_switch = kill_switch
        self.desk_switch = desk_switch
        self._last_entry_ms: dict[str, int] = {}

    @property
    def state(self) -> TradingState:
        own = self.kill_switch.state if self.kill_switch else _ACTIVE
        if self.desk_switch is None:  # worst(own, ACTIVE), asked on every order
            return own
        return worst(own, self.desk_switch.state)

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise InvalidField("symbol", symbol, "has no instrument rules") from None

    def observe_equity(self, now_ms: int, equity: float) -> TradingState:
        """Per-bar kill-switch check; Decimal equity is computed only when it can matter."""
        for switch in (self.kill_switch, self.desk_switch):
            if switch is not None and switch.needs_check(equity):
                switch.observe(now_ms, self.portfolio.equity)
        return self.state

    # -- decisions ------------------------------------------------------------------------------

    def size_entry(self, intent: EnterIntent, exposure: Exposure) -> Decimal | Refusal:
        """The quantity for an entry, or why there is none. Never above what the hint asked."""
        return self.size_entry_at(
            exposure, intent.symbol, intent.time_ms, intent.size, intent.ref_price
        )

    def size_entry_at(
        self, exposure: Exposure, symbol: str, time_ms: int, size: SizeHint, price: Decimal
    ) -> Decimal | Refusal:
        """:meth:`size_entry` from the entry's symbol, time, size hint and reference price, for
        a caller that holds them already (the router): on the compiled build each read of the
        interpreted intent is a generic attribute lookup."""

        state = self.state
        if state is not _ACTIVE:
            return Refusal(time_ms, symbol, "enter", f"bot is {state.value}: no new positions")
        instrument = self.instrument(symbol)
        limits = self.limits
        since = time_ms - self._last_entry_ms.get(symbol, -(10**15))
        if since < limits.entry_cooldown_ms:
            return Refusal(time_ms, symbol, "enter", f"cooldown: last entry {since} ms ago")
        adds_position = not self.portfolio.holds(symbol)
        if (
            limits.max_open_positions is not None
            and adds_position
            and exposure.open_positions >= limits.max_open_positions
        ):
            reason = f"max open positions {limits.max_open_positions} reached"
            return Refusal(time_ms, symbol, "enter", reason)
        equity = self.portfolio.equity
        if equity <= ZERO:
            return Refusal(time_ms, symbol, "enter", f"equity {equity} <= 0")
        notional = hint_notional(size, equity)
        if limits.max_position_notional is not None:
            held = self.portfolio.notional(symbol)
            notional = min(notional, max(ZERO, limits.max_position_notional - held))
        qty = qty_for_notional(instrument, notional, price)
        if qty < instrument.min_qty:
            reason = f"size {qty} below min_qty {instrument.min_qty} (notional {notional})"
            return Refusal(time_ms, symbol, "enter", reason)
        value = qty * price  # once: the same exact product each time it was written out
        if value < instrument.min_notional:
            reason = f"notional {value} below min_notional {instrument.min_notional}"
            return Refusal(time_ms, symbol, "enter", reason)
        total = exposure.total_notional + value
        if limits.max_total_notional is not None and total > limits.max_total_notional:
            reason = f"total notional {total} above {limits.max_total_notional}"
            return Refusal(time_ms, symbol, "enter", reason)
        if limits.max_leverage is not None and total > limits.max_leverage * equity:
            reason = f"leverage {total / equity:.4f} above {limits.max_leverage}"
            return Refusal(time_ms, symbol, "enter", reason)
        return qty

    def record_entry(self, symbol: str, time_ms: int) -> None:
        self._last_entry_ms[symbol] = time_ms

    def size_exit(self, intent: ExitIntent, *, explicit: bool = False) -> Decimal | Refusal:
        """Reduce-only quantity for an exit; HALTED lets only an owner's explicit exit through."""
        return self.size_exit_at(intent.symbol, intent.time_ms, intent.fraction, explicit)

    def size_exit_at(
        self, symbol: str, time_ms: int, fraction: Decimal, explicit: bool = False
    ) -> Decimal | Refusal:
        """:meth:`size_exit` from the exit's symbol, time and fraction, for a caller that holds
        them already (the router): each read of the interpreted intent is a generic lookup."""

        if self.state is _HALTED and not explicit:
            reason = "bot is HALTED: exits only by explicit command"
            return Refusal(time_ms, symbol, "exit", reason)
        position = self.portfolio.positions.get(symbol)
        held = ZERO if position is None else position.qty  # once: a generic read when compiled
        if position is None or not held:  # .is_flat, without the property call
            return Refusal(time_ms, symbol, "exit", "no open position")
        if fraction is _ONE or fraction == _ONE:  # (the default, by identity: no comparison)
            return abs(held)  # .size
        qty = round_qty(self.instrument(symbol), position.size * fraction)
        if qty <= 0:
            reason = f"fraction {fraction} of {position.size} rounds to 0"
            return Refusal(time_ms, symbol, "exit", reason)
        return qty

    def protection_allowed(self, time_ms: int, symbol: str, kind: str) -> Refusal | None:
        """Stops and trailing stops only protect, so REDUCING allows them; HALTED freezes all."""
        if self.state is TradingState.HALTED:
            return Refusal(time_ms, symbol, kind, "bot is HALTED")
        if not self.portfolio.holds(symbol):
            return Refusal(time_ms, symbol, kind, "no open position")
        return None

    def stop_price(self, symbol: str, entry_side: Side, price: Decimal) -> Decimal:
        """A stop loss on the tick grid, rounded toward the entry (never a wider loss)."""
        return round_price(self.instrument(symbol), price, _SELL if entry_side is _BUY else _BUY)

    def take_profit_price(self, symbol: str, entry_side: Side, price: Decimal) -> Decimal:
        """A take profit on the tick grid, rounded toward the entry (never further away)."""
        return round_price(self.instrument(symbol), price, entry_side)
