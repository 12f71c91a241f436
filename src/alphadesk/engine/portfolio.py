"""The bot's book as the core reads it: positions folded from fills, equity at last prices.

Positions come from :meth:`domain.positions.Position.apply`, the same fold the ledger uses, so
the strategy, the risk gate and the reports agree on size, average entry and realised PnL. Cash is
the starting balance plus realised PnL (fees and funding included); equity adds unrealised PnL at
the last known price. Last prices are floats (bar closes); they turn into Decimal only when equity
or unrealised PnL is asked for, which is rare compared with bars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Final

from alphadesk.domain import checks
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import POSITION_MOVERS, Side
from alphadesk.domain.epoch import epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.domain.pnl import open_pnl
from alphadesk.domain.positions import Position
from alphadesk.strategies.api import PositionView, TradingState

ZERO: Final = Decimal(0)
_INF: Final = float("inf")
_MOVERS: Final = POSITION_MOVERS  # a C static on the compiled build (an import: a dict lookup)
PriceSource = Callable[[str], float]


class Portfolio:
    """Implements the strategies' ``PortfolioView`` for one bot."""

    def __init__(
        self,
        bot_id: str,
        initial_cash: Decimal,
        *,
        state: Callable[[], TradingState] | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.initial_cash = checks.decimal("portfolio.initial_cash", initial_cash)
        self.positions: dict[str, Position] = {}
        self.entry_time_ms: dict[str, int] = {}
        self.realized = ZERO
        self._last: dict[str, float] = {}
        self._source: PriceSource | None = None
        self._filled_at: dict[str, Decimal] = {}
        """Each symbol's last fill price while a price source stands in for ``_last`` (which
        nothing reads then): made a float only if the source is taken away (see apply)."""
        self._flats: dict[str, Position] = {}
        self._state = state or (lambda: TradingState.ACTIVE)

    # -- inputs ---------------------------------------------------------------------------------

    def apply(self, fill: Fill, time_ms: int | None = None) -> Position:
        """Fold one fill (trades, funding) into its position; returns the new position.
        ``time_ms`` is the fill's time in epoch ms when the caller has it already."""
        if time_ms is None:
            return self.apply_at(fill, 0, False)
        return self.apply_at(fill, time_ms)

    def apply_at(self, fill: Fill, time_ms: int, known: bool = True) -> Position:
        """:meth:`apply` with the fill's time in epoch ms as an ``int`` (the engine has it):
        the compiled build passes it unboxed, where ``int | None`` makes an int object per
        fill. ``known`` False: no time given, the fill's own is read if an entry needs it."""
        symbol = fill.symbol
        before = self.positions.get(symbol) or self._flats.get(symbol) or self._flat(symbol)
        after = before.apply(fill)  # a native method call on the compiled build
        self.realized += after.realized_pnl - before.realized_pnl
        held, now = before.qty, after.qty
        if not now:
            self.positions.pop(symbol, None)
            self.entry_time_ms.pop(symbol, None)
        else:
            self.positions[symbol] = after
            if not held or (held > ZERO) is not (now > ZERO):  # opened, or flipped sides
                self.entry_time_ms[symbol] = time_ms if known else epoch_ms(fill.exec_time)
        if fill.exec_type in _MOVERS:  # .moves_position, without the property call
            if self._source is None:
                self._last[symbol] = float(fill.price)
            else:  # float(Decimal) goes through text: left until _last is read again
                self._filled_at[symbol] = fill.price
        return after

    def _flat(self, symbol: str) -> Position:
        """The flat position a symbol's first fill applies to; a Position is immutable, so one
        per symbol serves every entry."""
        flat = self._flats.get(symbol)
        if flat is None:
            flat = self._flats[symbol] = Position(self.bot_id, symbol)
        return flat

    def mark(self, symbol: str, price: float) -> None:
        self._last[symbol] = price
        if self._filled_at:
            self._filled_at.pop(symbol, None)  # this price is later than that fill's

    def use_price_source(self, source: PriceSource | None) -> None:
        """Read last prices from ``source`` on demand (the backtest's current bar closes)."""
        for symbol, price in self._filled_at.items():  # _last as the fills would have left it
            self._last[symbol] = float(price)
        self._filled_at.clear()
        self._source = source

    def last_price(self, symbol: str) -> float | None:
        if self._source is not None:
            return self._source(symbol)
        return self._last.get(symbol)

    # -- reads ----------------------------------------------------------------------------------

    @property
    def cash(self) -> Decimal:
        return self.initial_cash + self.realized

    def unrealized(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        price = self.last_price(symbol)
        if position is None or price is None or price <= 0:
            return ZERO
        mark = to_decimal(price)
        if price < _INF:  # finite and > 0: a plainly valid mark, so no checked method call
            return open_pnl(position.qty, position.cost, mark)
        return position.unrealized_pnl(mark)  # raises, naming the mark price

    @property
    def equity(self) -> Decimal:
        cash = self.initial_cash + self.realized  # self.cash
        if not self.positions:  # flat: what the sum below gives
            return cash
        unrealized = ZERO  # a plain loop, not sum() over a generator: read at every close
        for symbol in self.positions:
            unrealized += self.unrealized(symbol)
        return cash + unrealized

    def equity_float(self) -> float:
        """Equity as a float, cheap enough to check every bar (the kill switch's pre-check)."""
        total = float(self.cash)
        for symbol, position in self.positions.items():
            price = self.last_price(symbol)
            if price is not None:
                total += float(position.qty) * price - float(
                    position.cost if position.qty > 0 else -position.cost
                )
        return total

    def notional(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        if position is None:
            return ZERO
        price = self.last_price(symbol)
        if price is None or price <= 0:
            return position.cost
        return position.size * to_decimal(price)

    @property
    def state(self) -> TradingState:
        return self._state()

    def position(self, symbol: str) -> PositionView | None:
        position = self.positions.get(symbol)
        if position is None or position.side is None:
            return None
        return PositionView(
            symbol=symbol,
            side=position.side,
            size=position.size,
            avg_entry=position.avg_entry_price,
            entry_time_ms=self.entry_time_ms.get(symbol, 0),
            unrealized_pnl=self.unrealized(symbol),
        )

    def open_positions(self) -> Sequence[str]:
        return sorted(self.positions)

    def holds(self, symbol: str) -> bool:
        return symbol in self.positions

    def side_of(self, symbol: str) -> Side | None:
        """What ``position(symbol).side`` says (None when flat), at a dict's cost."""
        position = self.positions.get(symbol)
        return None if position is None else position.side

    def entry_time(self, symbol: str) -> int | None:
        """What ``position(symbol).entry_time_ms`` says (None when flat), at a dict's cost."""
        if symbol not in self.positions:
            return None
        return self.entry_time_ms.get(symbol, 0)

    def entry_of(self, symbol: str) -> tuple[Decimal, int] | None:
        """What ``position(symbol)`` says of ``avg_entry`` and ``entry_time_ms`` (None when flat),
        without the view: its Decimal unrealised PnL is most of its cost (LXAlgo reads these two
        on every holding bar). A mark ``position`` refuses (not finite) is refused here too."""
        position = self.positions.get(symbol)
        if position is None or position.side is None:
            return None
        price = self.last_price(symbol)
        if price is not None and not price <= 0 and not price < _INF:
            self.unrealized(symbol)  # raises, naming the mark price, as position() would
        return position.avg_entry_price, self.entry_time_ms.get(symbol, 0)
