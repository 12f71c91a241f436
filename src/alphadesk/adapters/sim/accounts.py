"""The engine's accounts as it reads them: ids, lookups, margin and the position and wallet
reports.

The base of :class:`~alphadesk.adapters.sim.core.EngineCore` (which applies fills and funding):
everything here only reads the books and accounts, or draws the next id, so the mechanics that
change them stay in one module of their own.
"""

from __future__ import annotations

import random
from decimal import Decimal

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.ids import draw_ids
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.adapters.sim.state import ZERO, SimAccount, SimPosition, SymbolBook
from alphadesk.domain import checks
from alphadesk.domain.enums import Side
from alphadesk.domain.events import PositionReported, WalletReported


class Accounts:
    """Set up by :class:`~alphadesk.adapters.sim.core.EngineCore`'s constructor."""

    venue: str
    config: SimConfig
    # the config's per-order knobs, read once (see EngineCore.__init__)
    _keep_history: bool
    _emit_snapshots: bool
    _check_margin: bool
    _maker_fee: Decimal
    _taker_fee: Decimal
    _default_leverage: Decimal
    _rng: random.Random
    _ids: list[str]
    _seq: int
    _accounts: dict[str, SimAccount]
    _books: dict[str, SymbolBook]
    _now_ms: int

    # -- ids and lookups ------------------------------------------------------------------------

    def _new_id(self) -> str:
        """``str(uuid.UUID(int=bits, version=4))`` for the generator's next seeded random bits
        (:mod:`~alphadesk.adapters.sim.ids`: drawn a batch at a time)."""
        ids = self._ids
        if not ids:
            ids = self._ids = draw_ids(self._rng)
        return ids.pop()

    def _peek_id(self) -> str:
        """The id :meth:`_new_id` gives next, left for it: a fill checked before the state it
        changes is made with the id it will have (drawing a batch early draws the same ids)."""
        ids = self._ids
        if not ids:
            ids = self._ids = draw_ids(self._rng)
        return ids[-1]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _account(self, account: str) -> SimAccount:
        try:
            return self._accounts[account]
        except KeyError:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR, "account", account, "no such account"
            ) from None

    def _book(self, symbol: str) -> SymbolBook:
        try:
            return self._books[symbol]
        except KeyError:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR, "symbol", symbol, "is not a listed instrument"
            ) from None

    def _position(self, acct: SimAccount, symbol: str) -> SimPosition:
        pos = acct.positions.get(symbol)
        if pos is None:
            pos = acct.positions[symbol] = SimPosition(acct.name, symbol)
        return pos

    def _leverage(self, acct: SimAccount, symbol: str) -> Decimal:
        return acct.leverage.get(symbol, self._default_leverage)

    def _mark(self, book: SymbolBook) -> Decimal:
        price = book.last_price()
        if price is None:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR,
                "symbol",
                book.instrument.symbol,
                "has no market price yet: feed a bar or a price first",
            )
        return price

    # -- margin ---------------------------------------------------------------------------------

    def _unrealized(self, acct: SimAccount) -> Decimal:
        total = ZERO
        for symbol, pos in acct.positions.items():
            if pos.qty:
                mark = self._books[symbol].last_price()
                if mark is not None:
                    total += pos.unrealized(mark)
        return total

    def _margin_in_use(self, acct: SimAccount) -> Decimal:
        used = ZERO
        for symbol, pos in acct.positions.items():
            if pos.qty:
                used += pos.cost / self._leverage(acct, symbol)
        for order in acct.open.values():
            used += order.im
        return used

    def _available(self, acct: SimAccount) -> Decimal:
        """Wallet + :meth:`_unrealized` - :meth:`_margin_in_use`, both summed in one pass and
        in the same order (the same roundings), once per entry."""
        unrealized = used = ZERO
        default = self._default_leverage
        for symbol, pos in acct.positions.items():
            if pos.qty:
                mark = self._books[symbol].last_price()
                if mark is not None:
                    unrealized += pos.unrealized(mark)
                used += pos.cost / acct.leverage.get(symbol, default)
        for order in acct.open.values():
            used += order.im
        return acct.wallet + unrealized - used

    def _opening_qty(self, acct: SimAccount, symbol: str, side: Side, qty: Decimal) -> Decimal:
        pos = acct.positions.get(symbol)
        held = pos.qty if pos is not None else ZERO
        if held == 0 or (held > 0) == (side is Side.BUY):
            return qty
        return max(qty - abs(held), ZERO)

    def _require_margin(
        self, acct: SimAccount, symbol: str, qty: Decimal, opening: Decimal, price: Decimal
    ) -> Decimal:
        """Initial margin an order of ``qty`` that opens ``opening`` (> 0, what
        :meth:`_opening_qty` says) needs; 110007 if it is not there."""
        if not self._check_margin:
            return ZERO
        notional = opening * price  # the same product both times below, made once
        im = notional / acct.leverage.get(symbol, self._default_leverage)
        need = im + notional * self._taker_fee
        available = self._available(acct)
        if need > available:
            raise OrderRejected(
                RejectCode.INSUFFICIENT_BALANCE,
                "qty",
                qty,
                f"needs {need} USDT of margin, {available} available",
            )
        return im

    # -- reports --------------------------------------------------------------------------------

    def _position_report(self, acct: SimAccount, symbol: str) -> PositionReported:
        book = self._book(symbol)
        pos = acct.positions.get(symbol) or SimPosition(acct.name, symbol)
        mark = book.last_price() or ZERO
        return PositionReported(
            venue=self.venue,
            account=acct.name,
            symbol=symbol,
            side=Side.BUY if pos.qty > 0 else Side.SELL if pos.qty < 0 else None,
            size=abs(pos.qty),
            avg_price=pos.avg_price,
            mark_price=mark,
            unrealized_pnl=pos.unrealized(mark) if mark else ZERO,
            realized_pnl=pos.realized - pos.fees - pos.funding,
            updated_at=checks.from_epoch_ms("position.updated_ms", pos.updated_ms or self._now_ms),
            take_profit=pos.tp,
            stop_loss=pos.sl,
            trailing_stop=pos.trail,
        )

    def _wallet_report(self, acct: SimAccount) -> WalletReported:
        unrealized = self._unrealized(acct)
        equity = acct.wallet + unrealized
        return WalletReported(
            venue=self.venue,
            account=acct.name,
            equity=equity,
            wallet_balance=acct.wallet,
            available_balance=equity - self._margin_in_use(acct),
            unrealized_pnl=unrealized,
            at=checks.from_epoch_ms("wallet.at", self._now_ms),
        )
