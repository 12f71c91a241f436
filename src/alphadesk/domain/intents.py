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
from typing import Any

from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField

ONE = Decimal(1)
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
        checks.positive("size.usdt", self.usdt)

    def scaled(self, factor: Decimal) -> NotionalSize:
        """The same hint times ``factor`` (a drawdown ladder's x0.5)."""
        return NotionalSize(usdt=self.usdt * checks.positive("size.factor", factor))


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityFraction:
    """Notional = equity x fraction x leverage (ShortSeller 7 % x 10; ema_cross 100 % x 1)."""

    fraction: Decimal
    leverage: Decimal = ONE

    def __post_init__(self) -> None:
        _fraction("size.fraction", self.fraction)
        checks.positive("size.leverage", self.leverage)

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
        _fraction("size.risk", self.risk)
        _fraction("size.stop_distance_pct", self.stop_distance_pct)
        _fraction("size.cap_fraction", self.cap_fraction)

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

    def __post_init__(self) -> None:
        checks.positive("take_profit.price", self.price)
        _fraction("take_profit.fraction", self.fraction)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingSpec:
    """An exchange trailing stop: ``distance`` in price units, armed at ``activation_price``.

    ``activation_price=None`` arms it at once (Momentum). These are Bybit's ``trailingStop`` and
    ``activePrice`` of the position trading-stop, not order parameters.
    """

    distance: Decimal
    activation_price: Decimal | None = None

    def __post_init__(self) -> None:
        checks.positive("trailing.distance", self.distance)
        if self.activation_price is not None:
            checks.positive("trailing.activation_price", self.activation_price)


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

    def __post_init__(self) -> None:
        _common("enter", self.time_ms, self.bot_id, self.symbol, self.reason)
        if not isinstance(self.side, Side):
            raise InvalidField("enter.side", self.side, "must be a Side")
        if not isinstance(self.size, SIZE_HINTS):
            raise InvalidField("enter.size", self.size, "must be a SizeHint")
        ref = self.ref_price
        if not (type(ref) is Decimal and ref.is_finite() and ref > 0):  # plainly valid, else:
            checks.positive("enter.ref_price", ref)
        if self.stop_loss is not None:
            checks.positive("enter.stop_loss", self.stop_loss)
        if type(self.take_profits) is tuple and not self.take_profits:
            pass  # none: nothing to check
        elif not isinstance(self.take_profits, tuple) or not all(
            isinstance(tp, TakeProfitLevel) for tp in self.take_profits
        ):
            raise InvalidField("enter.take_profits", self.take_profits, "must be a tuple of levels")
        elif sum((tp.fraction for tp in self.take_profits), Decimal(0)) > ONE:
            raise InvalidField("enter.take_profits", self.take_profits, "fractions sum above 1")
        if self.trailing is not None and not isinstance(self.trailing, TrailingSpec):
            raise InvalidField("enter.trailing", self.trailing, "must be a TrailingSpec")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitIntent:
    """Close ``fraction`` of the open position (reduce-only). Only sent for an open position."""

    time_ms: int
    bot_id: str
    symbol: str
    reason: str
    fraction: Decimal = ONE

    def __post_init__(self) -> None:
        _common("exit", self.time_ms, self.bot_id, self.symbol, self.reason)
        f = self.fraction
        if not (type(f) is Decimal and f.is_finite() and 0 < f <= ONE):  # plainly valid, else:
            _fraction("exit.fraction", f)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStopIntent:
    """Move the position's stop loss (e.g. to the average entry: reason ``breakeven``)."""

    time_ms: int
    bot_id: str
    symbol: str
    stop_loss: Decimal
    reason: str

    def __post_init__(self) -> None:
        _common("set_stop", self.time_ms, self.bot_id, self.symbol, self.reason)
        checks.positive("set_stop.stop_loss", self.stop_loss)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTrailingIntent:
    """Set (or replace) the position's exchange trailing stop."""

    time_ms: int
    bot_id: str
    symbol: str
    trailing: TrailingSpec
    reason: str

    def __post_init__(self) -> None:
        _common("set_trailing", self.time_ms, self.bot_id, self.symbol, self.reason)
        if not isinstance(self.trailing, TrailingSpec):
            raise InvalidField("set_trailing.trailing", self.trailing, "must be a TrailingSpec")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelIntent:
    """Cancel the bot's working (non-protection) orders on ``symbol``."""

    time_ms: int
    bot_id: str
    symbol: str
    reason: str

    def __post_init__(self) -> None:
        _common("cancel", self.time_ms, self.bot_id, self.symbol, self.reason)


Intent = EnterIntent | ExitIntent | SetStopIntent | SetTrailingIntent | CancelIntent
