"""Order intents: what a strategy asks for, before risk decides how much and whether at all.

A strategy never names a quantity. It says *enter this symbol on this side, sized like this*
(a :data:`SizeHint`), with the protection it wants on the position, and the risk gate turns the
hint into a rounded quantity for an order. Every intent is stamped with the decision time (the
close time of the bar it was decided on, epoch ms), so that the same bars give the same intents in
a backtest, in paper trading and live, and parity tests can compare intent lists with ``==``.

All intents are frozen, hashable dataclasses with keyword-only fields; prices and fractions are
Decimal; ``reason`` becomes the order's close reason in the ledger, so it fits ``varchar(50)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.native_init import init_signature, is_native, native_value
from alphadesk.domain.slots import slot_maker

ONE: Final = Decimal(1)
REASON_MAX_LEN = checks.INTENT_REASON_MAX_LEN
BOT_ID_MAX_LEN = checks.INTENT_BOT_ID_MAX_LEN
SYMBOL_MAX_LEN = checks.INTENT_SYMBOL_MAX_LEN


def _time(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidField(field, value, "must be epoch milliseconds (int >= 0)")
    return value


def _fraction(field: str, value: Any) -> Decimal:
    """A share of something: 0 < value <= 1."""
    d = checks.positive(field, value)
    if d > ONE:
        raise InvalidField(field, value, "must be <= 1")
    return d


def _common(kind: str, time_ms: Any, bot_id: Any, symbol: Any, reason: Any) -> None:
    if checks.plain_intent_fields(time_ms, bot_id, symbol, reason):
        return  # plainly valid: the checks below would pass (and build four field names)
    _time(f"{kind}.time_ms", time_ms)
    checks.text(f"{kind}.bot_id", bot_id, max_len=BOT_ID_MAX_LEN)
    checks.text(f"{kind}.symbol", symbol, max_len=SYMBOL_MAX_LEN)
    checks.text(f"{kind}.reason", reason, max_len=REASON_MAX_LEN)


# --------------------------------------------------------------------------------------------
# Size hints: how the strategy wants to be sized; the risk gate turns them into a quantity.


@dataclass(frozen=True, slots=True, kw_only=True)
class NotionalSize:
    """A fixed notional in USDT (LXAlgo's $200): qty = usdt / price."""

    usdt: Decimal

    def __post_init__(self) -> None:
        _check_notional(self.usdt)

    def scaled(self, factor: Decimal) -> NotionalSize:
        """The same hint times ``factor`` (a drawdown ladder's x0.5)."""
        return NotionalSize(usdt=self.usdt * checks.positive("size.factor", factor))


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityFraction:
    """Notional = equity x fraction x leverage (ShortSeller 7 % x 10; ema_cross 100 % x 1)."""

    fraction: Decimal
    leverage: Decimal = ONE

    def __post_init__(self) -> None:
        _check_equity_fraction(self.fraction, self.leverage)

    def scaled(self, factor: Decimal) -> EquityFraction:
        return EquityFraction(
            fraction=self.fraction * _fraction("size.factor", factor), leverage=self.leverage
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFraction:
    """Notional = min(equity x risk / stop_distance_pct, equity x cap_fraction).

    Momentum: risk 5 % of equity with a 10 % stop, capped at 20 % of equity per position.
    """

    risk: Decimal
    stop_distance_pct: Decimal
    cap_fraction: Decimal

    def __post_init__(self) -> None:
        _check_risk_fraction(self.risk, self.stop_distance_pct, self.cap_fraction)

    def notional_fraction(self) -> Decimal:
        """The share of equity this hint puts into one position."""
        return min(self.risk / self.stop_distance_pct, self.cap_fraction)

    def scaled(self, factor: Decimal) -> RiskFraction:
        f = _fraction("size.factor", factor)
        return RiskFraction(
            risk=self.risk * f,
            stop_distance_pct=self.stop_distance_pct,
            cap_fraction=self.cap_fraction * f,
        )


SizeHint = NotionalSize | EquityFraction | RiskFraction
SIZE_HINTS = (NotionalSize, EquityFraction, RiskFraction)
"""SizeHint's members as a tuple for isinstance (the union would be rebuilt on every call)."""


# --------------------------------------------------------------------------------------------
# Protection set with the entry or later on the position (Bybit /v5/position/trading-stop).


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeProfitLevel:
    """Close ``fraction`` of the position at ``price`` (1 = the whole position, Bybit Full mode)."""

    price: Decimal
    fraction: Decimal = ONE

    def __new__(cls, *_args: object, **_kwargs: object) -> TakeProfitLevel:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        _check_take_profit(self.price, self.fraction)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingSpec:
    """An exchange trailing stop: ``distance`` in price units, armed at ``activation_price``.

    ``activation_price=None`` arms it at once (Momentum). These are Bybit's ``trailingStop`` and
    ``activePrice`` of the position trading-stop, not order parameters.
    """

    distance: Decimal
    activation_price: Decimal | None = None

    def __new__(cls, *_args: object, **_kwargs: object) -> TrailingSpec:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        _check_trailing(self.distance, self.activation_price)


# --------------------------------------------------------------------------------------------
# The intents.


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterIntent:
    """Open a position on ``side``, sized by ``size``.

    ``ref_price`` is the close of the bar the decision was made on: the price the protection
    prices were computed from and the price a notional hint is divided by before the fill is
    known. The position's real entry price and time come from the fill, never from here.
    """

    time_ms: int
    bot_id: str
    symbol: str
    side: Side
    size: SizeHint
    reason: str
    ref_price: Decimal
    stop_loss: Decimal | None = None
    take_profits: tuple[TakeProfitLevel, ...] = ()
    trailing: TrailingSpec | None = None

    def __new__(cls, *_args: object, **_kwargs: object) -> EnterIntent:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        _check_enter(
            self.time_ms, self.bot_id, self.symbol, self.side, self.size, self.reason,
            self.ref_price, self.stop_loss, self.take_profits, self.trailing,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitIntent:
    """Close ``fraction`` of the open position (reduce-only). Only sent for an open position."""

    time_ms: int
    bot_id: str
    symbol: str
    reason: str
    fraction: Decimal = ONE

    def __new__(cls, *_args: object, **_kwargs: object) -> ExitIntent:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        _check_exit(self.time_ms, self.bot_id, self.symbol, self.reason, self.fraction)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStopIntent:
    """Move the position's stop loss (e.g. to the average entry: reason ``breakeven``)."""

    time_ms: int
    bot_id: str
    symbol: str
    stop_loss: Decimal
    reason: str

    def __post_init__(self) -> None:
        _check_set_stop(self.time_ms, self.bot_id, self.symbol, self.stop_loss, self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTrailingIntent:
    """Set (or replace) the position's exchange trailing stop."""

    time_ms: int
    bot_id: str
    symbol: str
    trailing: TrailingSpec
    reason: str

    def __post_init__(self) -> None:
        _check_set_trailing(self.time_ms, self.bot_id, self.symbol, self.trailing, self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelIntent:
    """Cancel the bot's working (non-protection) orders on ``symbol``."""

    time_ms: int
    bot_id: str
    symbol: str
    reason: str

    def __post_init__(self) -> None:
        _check_cancel(self.time_ms, self.bot_id, self.symbol, self.reason)


Intent = EnterIntent | ExitIntent | SetStopIntent | SetTrailingIntent | CancelIntent


# --------------------------------------------------------------------------------------------
# Checks: module functions (not __post_init__'s bodies) so the compiled build's constructors can
# run them on the values as given (domain/native_init.py). Each raises InvalidField naming the
# first wrong field.


def _check_notional(usdt: object) -> None:
    checks.positive("size.usdt", usdt)


def _check_equity_fraction(fraction: object, leverage: object = ONE) -> None:
    _fraction("size.fraction", fraction)
    checks.positive("size.leverage", leverage)


def _check_risk_fraction(risk: object, stop_distance_pct: object, cap_fraction: object) -> None:
    _fraction("size.risk", risk)
    _fraction("size.stop_distance_pct", stop_distance_pct)
    _fraction("size.cap_fraction", cap_fraction)


def _check_take_profit(price: object, fraction: object = ONE) -> None:
    checks.positive("take_profit.price", price)
    _fraction("take_profit.fraction", fraction)


def _check_trailing(distance: object, activation_price: object = None) -> None:
    checks.positive("trailing.distance", distance)
    if activation_price is not None:
        checks.positive("trailing.activation_price", activation_price)


def _check_enter(
    time_ms: object,
    bot_id: object,
    symbol: object,
    side: object,
    size: object,
    reason: object,
    ref_price: object,
    stop_loss: object = None,
    take_profits: object = (),
    trailing: object = None,
) -> None:
    _common("enter", time_ms, bot_id, symbol, reason)
    if not isinstance(side, Side):
        raise InvalidField("enter.side", side, "must be a Side")
    if not isinstance(size, SIZE_HINTS):
        raise InvalidField("enter.size", size, "must be a SizeHint")
    if not checks.plain_positive(ref_price):
        checks.positive("enter.ref_price", ref_price)
    if stop_loss is not None:
        checks.positive("enter.stop_loss", stop_loss)
    if type(take_profits) is tuple and not take_profits:
        pass  # none: nothing to check
    elif not isinstance(take_profits, tuple) or not all(
        isinstance(tp, TakeProfitLevel) for tp in take_profits
    ):
        raise InvalidField("enter.take_profits", take_profits, "must be a tuple of levels")
    elif sum((tp.fraction for tp in take_profits), Decimal(0)) > ONE:
        raise InvalidField("enter.take_profits", take_profits, "fractions sum above 1")
    if trailing is not None and not isinstance(trailing, TrailingSpec):
        raise InvalidField("enter.trailing", trailing, "must be a TrailingSpec")


def _check_exit(
    time_ms: object, bot_id: object, symbol: object, reason: object, fraction: object = ONE
) -> None:
    _common("exit", time_ms, bot_id, symbol, reason)
    if not (checks.plain_positive(fraction) and fraction <= ONE):
        _fraction("exit.fraction", fraction)


def _check_set_stop(
    time_ms: object, bot_id: object, symbol: object, stop_loss: object, reason: object
) -> None:
    _common("set_stop", time_ms, bot_id, symbol, reason)
    checks.positive("set_stop.stop_loss", stop_loss)


def _check_set_trailing(
    time_ms: object, bot_id: object, symbol: object, trailing: object, reason: object
) -> None:
    _common("set_trailing", time_ms, bot_id, symbol, reason)
    if not isinstance(trailing, TrailingSpec):
        raise InvalidField("set_trailing.trailing", trailing, "must be a TrailingSpec")


def _check_cancel(time_ms: object, bot_id: object, symbol: object, reason: object) -> None:
    _common("cancel", time_ms, bot_id, symbol, reason)


# --------------------------------------------------------------------------------------------
# Makers: the values with every field given, for callers that checked them (the engine's
# context, once per order; the strategies' protection, once per entry). Native stores compiled,
# slot writes interpreted; no __init__ either way.

_NATIVE: Final = is_native(EnterIntent)
_slot_enter: Final = None if _NATIVE else slot_maker(EnterIntent)
_slot_exit: Final = None if _NATIVE else slot_maker(ExitIntent)
_slot_take_profit: Final = None if _NATIVE else slot_maker(TakeProfitLevel)
_slot_trailing: Final = None if _NATIVE else slot_maker(TrailingSpec)
if _NATIVE:
    native_value(NotionalSize, "size", _check_notional)
    native_value(EquityFraction, "size", _check_equity_fraction)
    native_value(RiskFraction, "size", _check_risk_fraction)
    native_value(TakeProfitLevel, "take_profit", _check_take_profit)
    native_value(TrailingSpec, "trailing", _check_trailing)
    native_value(EnterIntent, "enter", _check_enter, exact_ints=("time_ms",))
    native_value(ExitIntent, "exit", _check_exit, exact_ints=("time_ms",))
    native_value(SetStopIntent, "set_stop", _check_set_stop, exact_ints=("time_ms",))
    native_value(SetTrailingIntent, "set_trailing", _check_set_trailing, exact_ints=("time_ms",))
    native_value(CancelIntent, "cancel", _check_cancel, exact_ints=("time_ms",))
else:
    init_signature(TakeProfitLevel, TrailingSpec, EnterIntent, ExitIntent)


def make_enter_intent(
    time_ms: int,
    bot_id: str,
    symbol: str,
    side: Side,
    size: SizeHint,
    reason: str,
    ref_price: Decimal,
    stop_loss: Decimal | None,
    take_profits: tuple[TakeProfitLevel, ...],
    trailing: TrailingSpec | None,
) -> EnterIntent:
    """``EnterIntent(...)`` with every field given, in field order (the engine context's)."""
    if _slot_enter is not None:
        made: EnterIntent = _slot_enter(
            time_ms, bot_id, symbol, side, size, reason, ref_price, stop_loss, take_profits,
            trailing,
        )  # fmt: skip
        return made
    made = EnterIntent.__new__(EnterIntent)
    made.time_ms = time_ms  # type: ignore[misc]  # frozen for everyone else: this is its maker
    made.bot_id = bot_id  # type: ignore[misc]
    made.symbol = symbol  # type: ignore[misc]
    made.side = side  # type: ignore[misc]
    made.size = size  # type: ignore[misc]
    made.reason = reason  # type: ignore[misc]
    made.ref_price = ref_price  # type: ignore[misc]
    made.stop_loss = stop_loss  # type: ignore[misc]
    made.take_profits = take_profits  # type: ignore[misc]
    made.trailing = trailing  # type: ignore[misc]
    return made


def make_exit_intent(
    time_ms: int, bot_id: str, symbol: str, reason: str, fraction: Decimal
) -> ExitIntent:
    """``ExitIntent(...)`` with every field given, in field order (the engine context's)."""
    if _slot_exit is not None:
        made: ExitIntent = _slot_exit(time_ms, bot_id, symbol, reason, fraction)
        return made
    made = ExitIntent.__new__(ExitIntent)
    made.time_ms = time_ms  # type: ignore[misc]
    made.bot_id = bot_id  # type: ignore[misc]
    made.symbol = symbol  # type: ignore[misc]
    made.reason = reason  # type: ignore[misc]
    made.fraction = fraction  # type: ignore[misc]
    return made


def make_take_profit(price: Decimal, fraction: Decimal) -> TakeProfitLevel:
    """``TakeProfitLevel(price=price, fraction=fraction)`` (strategies/protection.py's)."""
    if _slot_take_profit is not None:
        made: TakeProfitLevel = _slot_take_profit(price, fraction)
        return made
    made = TakeProfitLevel.__new__(TakeProfitLevel)
    made.price = price  # type: ignore[misc]
    made.fraction = fraction  # type: ignore[misc]
    return made


def make_trailing(distance: Decimal, activation_price: Decimal | None) -> TrailingSpec:
    """``TrailingSpec(distance=..., activation_price=...)`` (strategies/protection.py's)."""
    if _slot_trailing is not None:
        made: TrailingSpec = _slot_trailing(distance, activation_price)
        return made
    made = TrailingSpec.__new__(TrailingSpec)
    made.distance = distance  # type: ignore[misc]
    made.activation_price = activation_price  # type: ignore[misc]
    return made
