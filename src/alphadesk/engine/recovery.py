"""Restart: rebuild a bot's book from the ledger, then check it against the venue.

The ledger is the record (every fill of the bot, exactly once), so the portfolio is refolded from
it: positions, average entries, entry times and realised PnL come back as they were, and the
strategy's ``on_start`` rebuilds its own per-symbol state from that portfolio. The venue is the
truth about what is open *now*: the ledger can lag it (the listener is behind, the bot was down
while a stop triggered). So, decided here once:

- every symbol where the two disagree is logged at ERROR with both views;
- for trading decisions the venue's position wins: the portfolio holds the venue's size and
  average price for that symbol, after an explicit ``adopting venue position`` log line. The
  ledger is never written from here; the listener's gap-fill brings it level;
- nothing is ever closed or opened to reconcile: a restart never trades by itself.

Pure apart from logging: the caller fetches fills and venue positions and passes them in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.events import PositionReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.positions import Position
from alphadesk.engine.portfolio import Portfolio

log = logging.getLogger("alphadesk.recovery")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Mismatch:
    symbol: str
    ledger_qty: Decimal
    venue_qty: Decimal
    venue_avg_price: Decimal


@dataclass(slots=True)
class Recovery:
    """What a restart found: fills refolded, open positions, and disagreements with the venue."""

    fills: int = 0
    positions: dict[str, Decimal] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.mismatches


def refold(portfolio: Portfolio, fills: Iterable[Fill]) -> int:
    """Fold the bot's ledger fills into an empty portfolio, in execution order."""
    ordered = in_fold_order(f for f in fills if f.bot_id == portfolio.bot_id)
    for fill in ordered:
        portfolio.apply(fill)
    return len(ordered)


def _signed(report: PositionReported) -> Decimal:
    if report.side is Side.BUY:
        return report.size
    if report.side is Side.SELL:
        return -report.size
    return ZERO


def compare(portfolio: Portfolio, venue: Sequence[PositionReported]) -> list[Mismatch]:
    reported = {p.symbol: p for p in venue}
    symbols = sorted(set(portfolio.positions) | {s for s, p in reported.items() if p.size})
    found: list[Mismatch] = []
    for symbol in symbols:
        ours = portfolio.positions.get(symbol)
        ledger_qty = ours.qty if ours is not None else ZERO
        report = reported.get(symbol)
        venue_qty = _signed(report) if report is not None else ZERO
        if ledger_qty != venue_qty:
            avg = report.avg_price if report is not None else ZERO
            found.append(Mismatch(symbol, ledger_qty, venue_qty, avg))
    return found


def adopt(portfolio: Portfolio, mismatch: Mismatch, now_ms: int) -> None:
    """Make the portfolio hold the venue's position for ``mismatch.symbol`` (realised PnL kept)."""
    symbol = mismatch.symbol
    before = portfolio.positions.get(symbol)
    realized = before.realized_pnl if before is not None else ZERO
    if mismatch.venue_qty == 0:
        portfolio.positions.pop(symbol, None)
        portfolio.entry_time_ms.pop(symbol, None)
        return
    portfolio.positions[symbol] = Position(
        portfolio.bot_id,
        symbol,
        qty=mismatch.venue_qty,
        cost=abs(mismatch.venue_qty) * mismatch.venue_avg_price,
        realized_pnl=realized,
    )
    same_side = before is not None and (before.qty > 0) == (mismatch.venue_qty > 0)
    if not same_side:
        portfolio.entry_time_ms[symbol] = now_ms


def recover(
    portfolio: Portfolio,
    fills: Iterable[Fill],
    venue: Sequence[PositionReported] | None,
    now_ms: int,
) -> Recovery:
    """Refold ``fills``, compare with ``venue`` (None: the venue cannot be asked), adopt it."""
    result = Recovery(fills=refold(portfolio, fills))
    if venue is not None:
        result.mismatches = compare(portfolio, venue)
    for mismatch in result.mismatches:
        log.error(
            "recovery: %s %s: ledger says %s, venue says %s (avg %s)",
            portfolio.bot_id,
            mismatch.symbol,
            mismatch.ledger_qty,
            mismatch.venue_qty,
            mismatch.venue_avg_price,
        )
        log.warning(
            "recovery: adopting venue position for %s %s: %s (the ledger is not changed)",
            portfolio.bot_id,
            mismatch.symbol,
            mismatch.venue_qty,
        )
        adopt(portfolio, mismatch, now_ms)
        result.adopted.append(mismatch.symbol)
    result.positions = {s: p.qty for s, p in sorted(portfolio.positions.items())}
    return result


def latest_fill_ms(fills: Iterable[Fill]) -> int | None:
    times = [to_epoch_ms(f.exec_time) for f in fills]
    return max(times) if times else None
