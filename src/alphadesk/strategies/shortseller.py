"""ShortSeller: short BTC/ETH/SOL on 5-minute closes that cross below EMA240 or EMA600.

The seed's rules (seed_system.md 2.1) on closed bars only; per symbol:

- regime ACTIVE iff close < EMA240 and close < EMA600 (the EMA order is not checked, as in the
  seed); EMAs are TA-Lib's SMA-seeded ones;
- a cross below an EMA is ``prev_close > prev_ema and close < ema`` against the previous closed
  bar; every cross counts towards the day's counter (a bar crossing both counts two), counted
  before the entry check as the seed did, so the 12th cross of a day already blocks;
- enter short when flat, not in cooldown, regime ACTIVE, the day's count < 12 and this bar crossed;
- exit after more than 24 h (``time_exit``), or when the regime is INACTIVE outside the cooldown
  (``regime_inactive``); stop loss, take profit and the trailing stop are the exchange's, set with
  the entry, so the strategy does not repeat them;
- cooldown: 1 h from each entry fill; the cross counter resets with the UTC day the bar opened in.

Defects not copied: the seed decided on the bar that had just opened, booked the signal price as
the entry, sent the trailing stop where Bybit ignores it, never set the cooldown (a TypeError
skipped it), and booked "phantom" exits for positions the exchange had already closed. Here the
entry time and price come from the fill (portfolio), the trailing stop is a position trading-stop,
and exits are only sent for a position the portfolio shows open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import numpy as np

from alphadesk.domain.bars import Bar
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import EquityFraction
from alphadesk.strategies import specs
from alphadesk.strategies.api import Columns, Row, Strategy, StrategyContext, WakeMask
from alphadesk.strategies.builtin_params import AssetRisk, ShortSellerParams
from alphadesk.strategies.features import previous
from alphadesk.strategies.periods import HOUR_MS, MINUTE_MS, day_key, floor_to
from alphadesk.strategies.portfolio_reads import entry_time, side_of
from alphadesk.strategies.protection import take_profit, trailing
from alphadesk.strategies.rows import ArrayRow
from alphadesk.strategies.specs import IndicatorSpec

HUNDRED = Decimal(100)
_SELL: Final = Side.SELL
"""Bound once: a C static on the compiled build, where ``Side.SELL`` is a dict lookup of the
imported name and an attribute read of the enum class per entry."""


def _reads(ind: Row) -> tuple[float, float, float, float, float]:
    """The fast and slow EMA at this bar, and the close, fast and slow EMA at the one before.
    The two branches read the same; compiled, the first calls the backtest's (compiled) ArrayRow
    directly, with unboxed floats, where a read through the ``Row`` protocol is a generic item
    lookup or method call (the method looked up through ArrayRow's ``__getattr__`` wrapper)."""
    if type(ind) is ArrayRow:
        return (
            ind["ema_fast"],
            ind["ema_slow"],
            ind.prev("close"),
            ind.prev("ema_fast"),
            ind.prev("ema_slow"),
        )
    return (
        ind["ema_fast"],
        ind["ema_slow"],
        ind.prev("close"),
        ind.prev("ema_fast"),
        ind.prev("ema_slow"),
    )


@dataclass
class _AssetState:
    day: int = -1
    crosses: int = 0
    cooldown_until_ms: int = 0


@dataclass
class _Book:
    assets: dict[str, _AssetState] = field(default_factory=dict)

    def of(self, symbol: str) -> _AssetState:
        state = self.assets.get(symbol)
        if state is None:
            state = self.assets[symbol] = _AssetState()
        return state


class ShortSeller(Strategy[ShortSellerParams]):
    name = "shortseller"
    timeframe_min = 5
    params_type = ShortSellerParams
    warmup_bars = 1000

    def __init__(self, params: ShortSellerParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._risk = {r.symbol: r for r in p.asset_risk}
        # per symbol, the entry price's multipliers for the stop loss, the take profit and the
        # trailing stop's activation: the Decimals ``1 +- pct / 100`` an entry computed each time
        self._levels = {
            r.symbol: (
                1 + r.stop_loss_pct / HUNDRED,
                1 - r.take_profit_pct / HUNDRED,
                1 - r.trailing_activation_pct / HUNDRED,
            )
            for r in p.asset_risk
        }
        self._size = EquityFraction(fraction=p.allocation, leverage=p.leverage)
        self._cooldown_ms = p.cooldown_min * MINUTE_MS
        self._max_hold_ms = p.max_hold_hours * HOUR_MS
        fast, slow = f"ema{p.ema_fast}", f"ema{p.ema_slow}"
        # an entry's reason by the EMAs its bar crossed (fast, slow, both), named once
        self._reasons = (
            f"cross_below_{fast}",
            f"cross_below_{slow}",
            f"cross_below_{fast}_{slow}",
        )
        self._book = _Book()

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {
            "close": specs.source("close"),
            "ema_fast": specs.ema(self.params.ema_fast),
            "ema_slow": specs.ema(self.params.ema_slow),
        }

    def cross_count(self, symbol: str) -> int:
        """Crosses counted today for ``symbol`` (for status reports and tests)."""
        return self._book.of(symbol).crosses

    def in_cooldown(self, symbol: str, now_ms: int) -> bool:
        return now_ms < self._book.of(symbol).cooldown_until_ms

    def on_start(self, ctx: StrategyContext) -> None:
        """Rebuild cooldowns from open positions' entry times (cross counts restart at zero)."""
        for symbol in ctx.portfolio.open_positions():
            position = ctx.portfolio.position(symbol)
            if position is not None and symbol in self._risk:
                self._start_cooldown(symbol, position.entry_time_ms)
                self._time_exit_due(ctx, symbol, position.entry_time_ms)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """An entry fill (one on the side of the open position) starts the cooldown and asks for
        the time exit's bar. Reads the side and entry time alone: a whole ``position`` view
        (Decimal unrealised PnL included) cost more than the rest of the call."""
        symbol = fill.symbol
        if symbol not in self._risk or side_of(ctx.portfolio, symbol) is not fill.side:
            return
        entered = entry_time(ctx.portfolio, symbol)
        if entered is not None:
            self._start_cooldown(symbol, int(fill.exec_time.timestamp() * 1000))
            self._time_exit_due(ctx, symbol, entered)

    # ``self.timeframe_ms`` is spelled out as ``self.timeframe_min * MINUTE_MS`` here and below:
    # the base class's property is interpreted code, called per holding bar and per entry fill

    def _start_cooldown(self, symbol: str, entry_ms: int) -> None:
        until = floor_to(entry_ms, self.timeframe_min * MINUTE_MS) + self._cooldown_ms
        state = self._book.of(symbol)
        state.cooldown_until_ms = max(state.cooldown_until_ms, until)

    def _time_exit_due(self, ctx: StrategyContext, symbol: str, entry_ms: int) -> None:
        """Ask for the first bar on which ``time_exit`` fires (its age is over ``max_hold``):
        the holding mask cannot know it, the entry time comes from the fill."""
        ctx.wake_at(
            symbol, floor_to(entry_ms, self.timeframe_min * MINUTE_MS) + self._max_hold_ms + 1
        )

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask | None:
        """Flat: the cross bars (an entry needs a cross, and a bar without one leaves the day's
        counter as it was: the day reset waits for the next visited bar of a later day, where it
        gives the same count). Holding: the cross bars (they count) and the bars where the regime
        is not active (NaN EMAs included), where the regime exit can fire; the 24 h exit asks
        for its bar with ``ctx.wake_at`` (from the entry fill, and again on the next bar after
        each time exit, in case the exit was refused)."""
        if symbol not in self._risk:
            return np.zeros(len(columns["close"]), dtype=bool)
        close = columns["close"]
        prev_close = previous(close)
        crossed = np.zeros(len(close), dtype=bool)
        for name in ("ema_fast", "ema_slow"):
            ema = columns[name]
            crossed |= (prev_close > previous(ema)) & (close < ema)
        active = (close < columns["ema_fast"]) & (close < columns["ema_slow"])
        return crossed, crossed | ~active

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        # the bar's fields once each: generic attribute reads on the compiled build
        symbol = bar.symbol
        risk = self._risk.get(symbol)
        if risk is None:
            return
        state = self._book.of(symbol)
        day = day_key(bar.open_time_ms)
        if day != state.day:
            state.day, state.crosses = day, 0
        close = bar.close
        fast, slow, prev_close, prev_fast, prev_slow = _reads(ind)
        below_fast = prev_close > prev_fast and close < fast
        below_slow = prev_close > prev_slow and close < slow
        if below_fast:
            state.crosses += 1
        if below_slow:
            state.crosses += 1
        active = close < fast and close < slow
        now = ctx.now_ms
        cooling = now < state.cooldown_until_ms
        entered = entry_time(ctx.portfolio, symbol)
        if entered is not None:
            age = now - floor_to(entered, self.timeframe_min * MINUTE_MS)
            if age > self._max_hold_ms:
                ctx.exit(symbol, "time_exit")
                ctx.wake_at(symbol, now + 1)  # the next bar, should the exit be refused
            elif not active and not cooling:
                ctx.exit(symbol, "regime_inactive")
            return
        if (
            (below_fast or below_slow)
            and active
            and not cooling
            and state.crosses < self.params.max_daily_crosses
        ):
            reason = self._reasons[2 if below_fast and below_slow else 0 if below_fast else 1]
            self._enter(ctx, symbol, close, risk, reason)

    def _enter(
        self, ctx: StrategyContext, symbol: str, close: float, risk: AssetRisk, reason: str
    ) -> None:
        stop, target, activation = self._levels[symbol]
        ref = to_decimal(float(close))
        ctx.enter(
            symbol,
            _SELL,
            self._size,
            reason,
            ref_price=ref,
            stop_loss=ref * stop,
            take_profits=(take_profit(ref * target),),
            trailing=trailing(
                distance=ref * risk.trailing_pct / HUNDRED,  # (ref * pct) / 100, not a multiplier
                activation_price=ref * activation,
            ),
        )
