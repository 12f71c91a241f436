"""The Strategy API: the only surface a strategy sees, the same in backtest, paper and live.

A strategy is pure: it reacts to closed bars, fills and start/stop by recording intents on the
context. No I/O, no awaits, no wall clock (time is ``ctx.now_ms``, the close time of the bar being
decided on), no venue imports. The engine owns everything else: indicator computation (from the
specs the strategy declares), sizing (from the strategy's size hint), orders, fills and the
portfolio the strategy reads.

Call order the engine guarantees, per close time ``T``:

1. fills that happened before ``T`` were applied to the portfolio, then ``on_fill`` was called;
2. ``on_bar(ctx, bar, ind)`` once per symbol whose bar closed at ``T`` (any order, so a strategy
   must not depend on it: cross-sectional decisions belong in step 3);
3. ``on_bars_closed(ctx, T)`` once.

``ctx.now_ms == T`` during steps 2 and 3; during ``on_fill`` it is the fill's time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Generic, Protocol, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import (
    CancelIntent,
    EnterIntent,
    ExitIntent,
    SetStopIntent,
    SetTrailingIntent,
    SizeHint,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.strategies.portfolio_reads import entry_time as entry_time
from alphadesk.strategies.portfolio_reads import holds as holds
from alphadesk.strategies.specs import IndicatorSpec


class TradingState(StrEnum):
    """The bot's state as the risk layer sees it: ACTIVE trades, REDUCING only closes, HALTED
    does nothing new. Strategies may read it to skip work; the risk gate enforces it anyway."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionView:
    """An open position of this bot, as the portfolio knows it from fills.

    ``entry_time_ms`` is the time of the fill that opened it (not the signal); ``avg_entry`` is
    the fill-weighted average entry; ``unrealized_pnl`` is marked at the last bar close (USDT).
    """

    symbol: str
    side: Side
    size: Decimal
    avg_entry: Decimal
    entry_time_ms: int
    unrealized_pnl: Decimal = Decimal(0)


class PortfolioView(Protocol):
    """Read-only view of this bot's book. Flat symbols have no position (``None``)."""

    def position(self, symbol: str) -> PositionView | None: ...

    def open_positions(self) -> Sequence[str]: ...

    @property
    def equity(self) -> Decimal:
        """Wallet equity including unrealised PnL at the last close."""
        ...

    @property
    def state(self) -> TradingState: ...


BoolArray: TypeAlias = npt.NDArray[np.bool_]
Columns: TypeAlias = Mapping[str, npt.NDArray[np.float64]]
WakeMask: TypeAlias = BoolArray | tuple[BoolArray | None, BoolArray | None]
"""What ``Strategy.wake_bars`` returns: one mask for every state, or ``(flat, holding)``."""


class Row(Protocol):
    """Indicator values of one symbol at the current bar: ``ind.ema240`` or ``ind["ema240"]``.

    Values are floats, NaN during warm-up. ``prev(name, n)`` is the value ``n`` bars earlier
    (NaN when there is none); ``n`` may go up to the strategy's ``history``.
    """

    def __getattr__(self, name: str) -> float: ...

    def __getitem__(self, name: str) -> float: ...

    def prev(self, name: str, n: int = 1) -> float: ...


class StrategyContext(Protocol):
    """What the engine hands a strategy. Each action records (and returns) one intent."""

    @property
    def bot_id(self) -> str: ...

    @property
    def now_ms(self) -> int: ...

    @property
    def portfolio(self) -> PortfolioView: ...

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
    ) -> EnterIntent: ...

    def exit(self, symbol: str, reason: str, fraction: Decimal = Decimal(1)) -> ExitIntent: ...

    def set_stop(self, symbol: str, stop_loss: Decimal, reason: str) -> SetStopIntent: ...

    def set_trailing(
        self, symbol: str, trailing: TrailingSpec, reason: str
    ) -> SetTrailingIntent: ...

    def cancel(self, symbol: str, reason: str) -> CancelIntent: ...

    def wake_at(self, symbol: str, time_ms: int) -> None:
        """Be called for ``symbol`` on its first bar closing at or after ``time_ms``, whatever
        the wake masks say: a time-based rule (an exit after a holding period) with masks that
        leave that bar out. Only the backtest, which skips bars, needs it; live and paper
        deliver every bar, and their contexts ignore it."""
        ...


P = TypeVar("P")


class Strategy(ABC, Generic[P]):
    """Base of every strategy. Subclasses set ``name``, ``timeframe_min`` and ``params_type``.

    ``params`` is a frozen dataclass carrying the seed's defaults; ``symbols`` is the universe the
    strategy trades (an empty tuple means "the symbols the engine gives it", e.g. LXAlgo's
    turnover rule applied upstream). ``history`` is how far back ``Row.prev`` must reach.
    ``warmup_bars`` is how many closed bars the live engine feeds the indicators before the first
    decision (the seed's kline window); recursive indicators (EMA, RSI) remember where they
    started, so live values equal a backtest's only when both start on the same bar.
    """

    name: ClassVar[str]
    timeframe_min: int
    params_type: ClassVar[type]
    history: ClassVar[int] = 1
    warmup_bars: ClassVar[int] = 0

    def __init__(self, params: P | None = None) -> None:
        self.params: P = params if params is not None else self.params_type()

    @property
    def symbols(self) -> tuple[str, ...]:
        symbols: tuple[str, ...] = getattr(self.params, "symbols", ())
        return symbols

    @property
    def timeframe_ms(self) -> int:
        return self.timeframe_min * 60_000

    @abstractmethod
    def indicators(self) -> Mapping[str, IndicatorSpec]:
        """Named indicator specs, computed per symbol by the engine; read back through ``Row``."""

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask | None:
        """The bars of ``symbol`` on which ``on_bar`` can do anything; None means every bar.

        A backtest-only optimisation: ``columns`` holds the precomputed indicator arrays (by the
        names of :meth:`indicators`) plus ``open``/``high``/``low``/``close``/``volume``. Return
        one boolean array (used whatever the state), or a pair ``(flat, holding)``: ``flat``
        while the symbol has no position and no order in flight, ``holding`` otherwise, each
        None for "every bar". The backtest then calls ``on_bar`` only on those bars (and
        ``on_bars_closed`` only at close times where some ``on_bar`` was called), and on the bars
        asked for with ``ctx.wake_at``. It must be exact: a bar left out must be one where the
        call would provably change nothing, state included, and ``on_bars_closed`` at a close
        time without calls must change nothing either (or change only what a later call at the
        same equity would set the same way). A holding mask that leaves out a bar on which a
        time-based rule fires needs the ``wake_at`` of that time.
        """
        return None

    def on_start(self, ctx: StrategyContext) -> None:
        """Called once before the first bar; rebuild per-symbol state from ``ctx.portfolio``."""

    @abstractmethod
    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        """One closed bar of one symbol."""

    def on_bars_closed(self, ctx: StrategyContext, close_time_ms: int) -> None:
        """After every symbol's bar closing at ``close_time_ms`` was delivered."""

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """A fill of this bot, after the portfolio has applied it."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """The bot stops. Must not flatten: stopping a bot never closes its positions."""
