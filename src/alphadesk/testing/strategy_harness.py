"""Run a strategy without the engine: a context that records intents and a settable portfolio.

``RecordingContext`` is a real :class:`~alphadesk.strategies.context.IntentContext` (the same
intent-building code the engine uses) over an in-memory :class:`BookPortfolio` that a test opens
and closes positions in by hand. ``ValuesRow`` is a ``Row`` with values the test chooses, so a
strategy's rules can be tested without warming indicators up; ``drive`` runs a strategy over real
bars through the real feature path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import EnterIntent, ExitIntent, Intent
from alphadesk.strategies.api import PositionView, Row, Strategy, TradingState
from alphadesk.strategies.context import IntentContext
from alphadesk.strategies.features import FeatureTable, LiveFeatures, Ohlcv

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch ms of a UTC wall-clock time, so tests read like the calendar rules they test."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


@dataclass
class BookPortfolio:
    """An in-memory ``PortfolioView``: positions and equity are whatever the test sets."""

    equity: Decimal = Decimal(10_000)
    state: TradingState = TradingState.ACTIVE
    positions: dict[str, PositionView] = field(default_factory=dict)

    def position(self, symbol: str) -> PositionView | None:
        return self.positions.get(symbol)

    def open_positions(self) -> Sequence[str]:
        return sorted(self.positions)

    def open(
        self,
        symbol: str,
        side: Side,
        avg_entry: Decimal | str | float,
        entry_time_ms: int,
        size: Decimal | str = "1",
        unrealized_pnl: Decimal | str = "0",
    ) -> PositionView:
        entry = avg_entry if isinstance(avg_entry, Decimal) else Decimal(str(avg_entry))
        view = PositionView(
            symbol=symbol,
            side=side,
            size=Decimal(size),
            avg_entry=entry,
            entry_time_ms=entry_time_ms,
            unrealized_pnl=Decimal(unrealized_pnl),
        )
        self.positions[symbol] = view
        return view

    def mark(self, symbol: str, unrealized_pnl: Decimal | str) -> None:
        view = self.positions[symbol]
        self.positions[symbol] = PositionView(
            symbol=view.symbol,
            side=view.side,
            size=view.size,
            avg_entry=view.avg_entry,
            entry_time_ms=view.entry_time_ms,
            unrealized_pnl=Decimal(unrealized_pnl),
        )

    def close(self, symbol: str) -> None:
        self.positions.pop(symbol, None)


class RecordingContext(IntentContext):
    """Records every intent; ``now_ms`` and the portfolio are set by the test (or ``drive``)."""

    def __init__(
        self, bot_id: str = "test_bot", now_ms: int = 0, portfolio: BookPortfolio | None = None
    ) -> None:
        self._bot_id = bot_id
        self._now_ms = now_ms
        self.book = portfolio if portfolio is not None else BookPortfolio()
        self.intents: list[Intent] = []
        self.wakes: list[tuple[str, int]] = []
        """``(symbol, time_ms)`` of every ``wake_at``, in call order."""

    @property
    def bot_id(self) -> str:
        return self._bot_id

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @now_ms.setter
    def now_ms(self, value: int) -> None:
        self._now_ms = value

    @property
    def portfolio(self) -> BookPortfolio:
        return self.book

    def submit(self, intent: Intent) -> None:
        self.intents.append(intent)

    def wake_at(self, symbol: str, time_ms: int) -> None:
        self.wakes.append((symbol, time_ms))

    def take(self) -> list[Intent]:
        """The intents recorded since the last ``take``."""
        out, self.intents = self.intents, []
        return out


class ValuesRow:
    """A ``Row`` with chosen values; ``prev`` values are given separately (NaN when absent)."""

    __slots__ = ("_prev", "_values")

    def __init__(
        self, values: Mapping[str, float], prev: Mapping[str, float] | None = None
    ) -> None:
        self._values = dict(values)
        self._prev = dict(prev or {})

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no indicator named {name!r}") from None

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def prev(self, name: str, n: int = 1) -> float:
        return self._prev.get(name, math.nan) if n == 1 else math.nan


def make_bar(
    symbol: str,
    close_time_ms: int,
    close: float,
    *,
    interval_min: int = 5,
    open_: float | None = None,
    high: float | None = None,
    low: float | None = None,
    volume: float = 1.0,
) -> Bar:
    """A bar that closes at ``close_time_ms``; missing prices default to ``close``."""
    o = close if open_ is None else open_
    return Bar(
        symbol=symbol,
        interval_min=interval_min,
        open_time_ms=close_time_ms - interval_min * MINUTE_MS,
        open=o,
        high=max(o, close) if high is None else high,
        low=min(o, close) if low is None else low,
        close=close,
        volume=volume,
    )


def load_bars(path: Any, symbol: str, interval_min: int) -> list[Bar]:
    """Bars from a ``ts_ms,open,high,low,close,volume`` CSV (the bundled market data)."""
    bars: list[Bar] = []
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            ts, o, h, lo, c, v = line.strip().split(",")[:6]
            bars.append(
                Bar(
                    symbol, interval_min, int(ts), float(o), float(h), float(lo), float(c), float(v)
                )
            )
    return bars


def drive(
    strategy: Strategy[Any],
    bars_by_symbol: Mapping[str, Iterable[Bar]],
    ctx: RecordingContext,
    *,
    fill_entries: bool = True,
    vectorised: bool = False,
) -> list[Intent]:
    """Feed real bars through live features, in close-time order, and return every intent.

    ``vectorised`` computes the features up front (``FeatureTable``, the backtest's path)
    instead of bar by bar (``LiveFeatures``, the live path); both must give the same intents.

    With ``fill_entries`` an EnterIntent opens a position in the book at the next bar's open
    (and an ExitIntent closes it there), and ``on_fill`` is called with that fill: a crude
    stand-in for a venue so that position rules run. Protection (SL/TP/trailing) is not simulated.
    """
    series = {symbol: list(bars) for symbol, bars in bars_by_symbol.items()}
    rows = _row_source(strategy, series, vectorised)
    timeline: dict[int, list[Bar]] = {}
    for symbol_bars in series.values():
        for bar in symbol_bars:
            timeline.setdefault(bar.close_time_ms, []).append(bar)
    pending: list[Intent] = []
    recorded: list[Intent] = []
    strategy.on_start(ctx)
    for close_time in sorted(timeline):
        bars = sorted(timeline[close_time], key=lambda b: b.symbol)
        if fill_entries:
            for fill in _fill_pending(ctx, pending, {b.symbol: b for b in bars}):
                ctx.now_ms = to_epoch_ms(fill.exec_time)
                strategy.on_fill(ctx, fill)
            recorded.extend(ctx.take())
        ctx.now_ms = close_time
        for bar in bars:
            strategy.on_bar(ctx, bar, rows(bar))
        strategy.on_bars_closed(ctx, close_time)
        new = ctx.take()
        recorded.extend(new)
        pending = new
    strategy.on_stop(ctx)
    recorded.extend(ctx.take())
    return recorded


def _row_source(
    strategy: Strategy[Any], series: Mapping[str, list[Bar]], vectorised: bool
) -> Callable[[Bar], Row]:
    specs = strategy.indicators()
    if not vectorised:
        live = {symbol: LiveFeatures(specs, strategy.history) for symbol in series}
        return lambda bar: live[bar.symbol].update(bar)
    tables = {symbol: FeatureTable(specs, Ohlcv.from_bars(bars)) for symbol, bars in series.items()}
    index = {
        (symbol, bar.open_time_ms): i
        for symbol, bars in series.items()
        for i, bar in enumerate(bars)
    }
    table_rows = {symbol: table.row() for symbol, table in tables.items()}
    return lambda bar: table_rows[bar.symbol].at(index[(bar.symbol, bar.open_time_ms)])


def _fill_pending(
    ctx: RecordingContext, pending: list[Intent], bars: Mapping[str, Bar]
) -> list[Fill]:
    fills: list[Fill] = []
    for intent in pending:
        bar = bars.get(intent.symbol)
        if bar is None:
            continue
        position = ctx.book.position(intent.symbol)
        if isinstance(intent, EnterIntent) and position is None:
            side = intent.side
            ctx.book.open(intent.symbol, side, to_decimal(bar.open), bar.open_time_ms)
        elif isinstance(intent, ExitIntent) and position is not None:
            side = position.side.opposite
            ctx.book.close(intent.symbol)
        else:
            continue
        fills.append(
            Fill(
                venue="harness",
                account="harness",
                exec_id=f"{intent.symbol}-{bar.open_time_ms}-{len(fills)}",
                bot_id=ctx.bot_id,
                symbol=intent.symbol,
                side=side,
                price=to_decimal(bar.open),
                qty=Decimal(1),
                fee=Decimal(0),
                exec_time=bar.open_time,
            )
        )
    return fills
