"""FIFO round trips: which entry each exit closed, at what prices, fees and holding time.

A round trip is one (entry fill, exit fill) pair's matched quantity, so partial fills on either
side give several round trips and nothing is averaged away. Fees and funding are allocated pro
rata to quantity; the last piece of a fill takes the remainder, so allocations sum exactly to
what was paid and, once a position is flat, round trips' net PnL sums exactly to the position's
realized PnL.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from alphadesk.domain.allocation import share
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    trade_id: str
    bot_id: str
    symbol: str
    entry_side: Side
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    entry_fee: Decimal
    exit_fee: Decimal
    funding: Decimal
    entry_exec_id: str
    exit_exec_id: str
    entry_order_id: str
    exit_order_id: str
    entry_order_link_id: str
    exit_order_link_id: str
    entry_reason: str
    exit_reason: str

    @property
    def exit_side(self) -> Side:
        return self.entry_side.opposite

    @property
    def gross_pnl(self) -> Decimal:
        return self.qty * (self.exit_price - self.entry_price) * self.entry_side.sign

    @property
    def fees(self) -> Decimal:
        return self.entry_fee + self.exit_fee

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees - self.funding

    @property
    def pnl_pct(self) -> Decimal:
        """Net PnL as a percentage of the entry notional."""
        return self.net_pnl / (self.entry_price * self.qty) * 100

    @property
    def holding_seconds(self) -> int:
        return int((self.exit_time - self.entry_time).total_seconds())


@dataclass(slots=True)
class _Lot:
    fill: Fill
    original: Decimal
    remaining: Decimal
    fee_left: Decimal
    fee_total: Decimal
    funding_left: Decimal = ZERO

    def take(self, qty: Decimal) -> tuple[Decimal, Decimal]:
        """Remove ``qty`` and return its share of the entry fee and of the funding."""
        if qty == self.remaining:
            fee, funding = self.fee_left, self.funding_left
        else:
            fee = share(self.fee_total, qty, self.original)
            funding = share(self.funding_left, qty, self.remaining)
        self.remaining -= qty
        self.fee_left -= fee
        self.funding_left -= funding
        return fee, funding


def trade_id_for(bot_id: str, symbol: str, entry_exec_id: str, exit_exec_id: str) -> str:
    """Stable and unique per (entry fill, exit fill), so re-running the matcher is idempotent."""
    digest = hashlib.sha256(f"{symbol}|{entry_exec_id}|{exit_exec_id}".encode()).hexdigest()
    return f"{bot_id[:40]}-{digest[:32]}"


@dataclass(slots=True)
class FifoMatcher:
    """Matches one bot's fills on one symbol in execution order."""

    bot_id: str
    symbol: str
    lots: deque[_Lot] = field(default_factory=deque)
    unallocated_funding: Decimal = ZERO

    @property
    def open_qty(self) -> Decimal:
        """Signed open quantity, the same as the netted position's."""
        total = sum((lot.remaining for lot in self.lots), ZERO)
        if self.lots and self.lots[0].fill.side is Side.SELL:
            return -total
        return total

    @property
    def open_fees(self) -> Decimal:
        """Entry fees already paid on lots that are still open (not yet in any round trip)."""
        return sum((lot.fee_left for lot in self.lots), ZERO)

    @property
    def open_funding(self) -> Decimal:
        return sum((lot.funding_left for lot in self.lots), ZERO) + self.unallocated_funding

    def add(self, fill: Fill) -> list[RoundTrip]:
        if fill.symbol != self.symbol or fill.bot_id != self.bot_id:
            owner = f"{self.bot_id}/{self.symbol}"
            raise InvalidField("fill", (fill.bot_id, fill.symbol), f"does not belong to {owner}")
        if not fill.moves_position:
            self._allocate_funding(fill.fee)
            return []
        if not self.lots or self.lots[0].fill.side is fill.side:
            self.lots.append(_Lot(fill, fill.qty, fill.qty, fill.fee, fill.fee))
            return []
        return self._close(fill)

    def _allocate_funding(self, amount: Decimal) -> None:
        open_total = sum((lot.remaining for lot in self.lots), ZERO)
        if not open_total:
            self.unallocated_funding += amount
            return
        left = amount
        for index, lot in enumerate(self.lots):
            part = left if index == len(self.lots) - 1 else share(amount, lot.remaining, open_total)
            lot.funding_left += part
            left -= part

    def _close(self, fill: Fill) -> list[RoundTrip]:
        open_total = sum((lot.remaining for lot in self.lots), ZERO)
        closing = min(fill.qty, open_total)
        closing_fee = share(fill.fee, closing, fill.qty)
        trips: list[RoundTrip] = []
        left, fee_left = closing, closing_fee
        while left > 0:
            lot = self.lots[0]
            piece = min(lot.remaining, left)
            entry_fee, funding = lot.take(piece)
            exit_fee = fee_left if piece == left else share(closing_fee, piece, closing)
            left -= piece
            fee_left -= exit_fee
            trips.append(self._trip(lot.fill, fill, piece, entry_fee, exit_fee, funding))
            if lot.remaining == 0:
                self.lots.popleft()
        opened = fill.qty - closing
        if opened:
            fee = fill.fee - closing_fee
            self.lots.append(_Lot(fill, opened, opened, fee, fee))
        return trips

    def _trip(
        self,
        entry: Fill,
        exit_: Fill,
        qty: Decimal,
        entry_fee: Decimal,
        exit_fee: Decimal,
        funding: Decimal,
    ) -> RoundTrip:
        return RoundTrip(
            trade_id=trade_id_for(self.bot_id, self.symbol, entry.exec_id, exit_.exec_id),
            bot_id=self.bot_id,
            symbol=self.symbol,
            entry_side=entry.side,
            qty=qty,
            entry_price=entry.price,
            exit_price=exit_.price,
            entry_time=entry.exec_time,
            exit_time=exit_.exec_time,
            entry_fee=entry_fee,
            exit_fee=exit_fee,
            funding=funding,
            entry_exec_id=entry.exec_id,
            exit_exec_id=exit_.exec_id,
            entry_order_id=entry.order_id,
            exit_order_id=exit_.order_id,
            entry_order_link_id=entry.order_link_id,
            exit_order_link_id=exit_.order_link_id,
            entry_reason=entry.close_reason,
            exit_reason=exit_.close_reason,
        )


def match(bot_id: str, symbol: str, fills: list[Fill]) -> list[RoundTrip]:
    """All round trips of one bot's fills on one symbol, in fold order
    (:mod:`alphadesk.domain.ordering`): funding of an exit's own instant is settled before the
    exit, so it is allocated to the lots that exit closes."""
    matcher = FifoMatcher(bot_id, symbol)
    trips: list[RoundTrip] = []
    for fill in in_fold_order(fills):
        trips.extend(matcher.add(fill))
    return trips
