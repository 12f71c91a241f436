"""Trade statistics over FIFO round trips and fills, in Decimal.

These are money figures (PnL, fees, funding), so they stay Decimal end to end; ratios such as the
win rate and profit factor are Decimal too, so a report shows them exactly and reproducibly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain.enums import ExecType
from alphadesk.domain.fills import Fill
from alphadesk.domain.roundtrips import RoundTrip

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Round-trip statistics. ``profit_factor`` is None when there is no losing trade."""

    count: int
    wins: int
    losses: int
    gross_profit: Decimal
    gross_loss: Decimal
    net_pnl: Decimal
    win_rate: Decimal
    profit_factor: Decimal | None
    expectancy: Decimal
    avg_win: Decimal
    avg_loss: Decimal
    best: Decimal
    worst: Decimal
    avg_holding_seconds: Decimal


def trade_stats(trips: Sequence[RoundTrip]) -> TradeStats:
    """A win is a round trip with net PnL > 0; a loss one with net PnL < 0 (zero is neither)."""
    nets = [trip.net_pnl for trip in trips]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum(losses, ZERO)
    count = len(nets)
    net = sum(nets, ZERO)
    holding = sum((Decimal(t.holding_seconds) for t in trips), ZERO)
    return TradeStats(
        count=count,
        wins=len(wins),
        losses=len(losses),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=net,
        win_rate=Decimal(len(wins)) / count if count else ZERO,
        profit_factor=profit_factor(nets),
        expectancy=net / count if count else ZERO,
        avg_win=gross_profit / len(wins) if wins else ZERO,
        avg_loss=-gross_loss / len(losses) if losses else ZERO,
        best=max(nets, default=ZERO),
        worst=min(nets, default=ZERO),
        avg_holding_seconds=holding / count if count else ZERO,
    )


def profit_factor(pnls: Iterable[Decimal]) -> Decimal | None:
    """Sum of gains over sum of losses; None (infinite or undefined) when nothing was lost."""
    gains = ZERO
    loss = ZERO
    for pnl in pnls:
        if pnl > 0:
            gains += pnl
        else:
            loss -= pnl
    if loss == 0:
        return None
    return gains / loss


@dataclass(frozen=True, slots=True)
class CostStats:
    """What trading cost: fees on trades (negative for rebates) and funding paid (< 0: received)."""

    fees: Decimal
    funding: Decimal
    traded_notional: Decimal
    fill_count: int


def cost_stats(fills: Iterable[Fill]) -> CostStats:
    fees = funding = notional = ZERO
    count = 0
    for fill in fills:
        if fill.exec_type is ExecType.FUNDING:
            funding += fill.fee
        elif fill.moves_position:
            fees += fill.fee
            notional += fill.notional
            count += 1
    return CostStats(fees=fees, funding=funding, traded_notional=notional, fill_count=count)
