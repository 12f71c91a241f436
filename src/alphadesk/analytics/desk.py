"""The seed's analytics summary of a desk: fills, volume, win rate, per strategy, top symbols.

The seed's Telegram ``/analytics`` printed total fills, total volume (``SUM(exec_price *
exec_qty)`` over ``trading.fills``), a win rate, one line per strategy and the most traded
symbols. Here the same figures come from the ledger's own rows: trade fills (funding payments are
not fills, they are counted apart), and the ledger's round trips for wins and PnL (a win is a
round trip whose net PnL, after fees and funding, is above zero, as in the seed). Pure: the
caller reads the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from alphadesk.domain.enums import ExecType
from alphadesk.domain.fills import Fill

ZERO = Decimal(0)


class ClosedTrade(Protocol):
    """A round trip as far as the summary reads it (a domain ``RoundTrip`` or a stored row)."""

    @property
    def bot_id(self) -> str: ...

    @property
    def net_pnl(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class BotFigures:
    bot_id: str
    fills: int
    volume: Decimal
    fees: Decimal
    funding: Decimal
    """Funding payments' sum, signed as PnL (a payment received is positive)."""
    round_trips: int
    wins: int
    net_pnl: Decimal
    """Closed round trips' net PnL: gross less fees, plus their funding."""

    @property
    def win_rate(self) -> Decimal:
        return Decimal(self.wins) / self.round_trips if self.round_trips else ZERO


@dataclass(frozen=True, slots=True)
class DeskSummary:
    bots: tuple[BotFigures, ...]
    top_symbols: tuple[tuple[str, int], ...]
    """The most traded symbols by fills, most first (ties by name)."""

    @property
    def fills(self) -> int:
        return sum(b.fills for b in self.bots)

    @property
    def volume(self) -> Decimal:
        return sum((b.volume for b in self.bots), ZERO)

    @property
    def round_trips(self) -> int:
        return sum(b.round_trips for b in self.bots)

    @property
    def wins(self) -> int:
        return sum(b.wins for b in self.bots)

    @property
    def win_rate(self) -> Decimal:
        return Decimal(self.wins) / self.round_trips if self.round_trips else ZERO

    @property
    def net_pnl(self) -> Decimal:
        return sum((b.net_pnl for b in self.bots), ZERO)


def summarize(
    fills: Sequence[Fill], trips: Sequence[ClosedTrade], *, bots: Sequence[str] = (), top: int = 5
) -> DeskSummary:
    """Figures per bot (every bot of ``bots`` listed, even one without fills, in that order; any
    other bot met after them by name) and the ``top`` symbols by trade fills."""
    order = list(dict.fromkeys([*bots, *sorted({f.bot_id for f in fills} - set(bots))]))
    trades = [f for f in fills if f.exec_type is ExecType.TRADE]
    figures = []
    for bot in order:
        own = [f for f in trades if f.bot_id == bot]
        cash = [f for f in fills if f.bot_id == bot and f.exec_type is not ExecType.TRADE]
        closed = [t for t in trips if t.bot_id == bot]
        figures.append(BotFigures(
            bot_id=bot,
            fills=len(own),
            volume=sum((f.price * f.qty for f in own), ZERO),
            fees=sum((f.fee for f in own), ZERO),
            funding=-sum((f.fee for f in cash), ZERO),
            round_trips=len(closed),
            wins=sum(1 for t in closed if t.net_pnl > 0),
            net_pnl=sum((t.net_pnl for t in closed), ZERO),
        ))  # fmt: skip
    counts = Counter(f.symbol for f in trades)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return DeskSummary(tuple(figures), tuple(ranked))
