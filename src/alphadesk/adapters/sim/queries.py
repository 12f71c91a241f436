"""The matching engine's queries: positions, protection, wallet, orders and history, as Bybit's
read endpoints answer them.

The base of :class:`~alphadesk.adapters.sim.engine.MatchingEngine` (commands and market data):
nothing here changes the venue.
"""

from __future__ import annotations

from alphadesk.adapters.sim import orders
from alphadesk.adapters.sim.history import page
from alphadesk.adapters.sim.protection import Protection
from alphadesk.adapters.sim.records import ClosedPnl, Execution, OrderView, Page
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.domain.enums import ExecType
from alphadesk.domain.events import PositionReported, WalletReported


class Queries(orders.OrderDesk):
    def position(self, account: str, symbol: str) -> PositionReported:
        """The position (flat ones too), marked at the last price."""
        return self._position_report(self._account(account), symbol)

    def positions(self, account: str) -> list[PositionReported]:
        """Open (non-flat) positions, by symbol."""
        acct = self._account(account)
        return [self._position_report(acct, s) for s, p in sorted(acct.positions.items()) if p.qty]

    def has_resting(self, account: str, symbol: str) -> bool:
        """Whether anything of the account rests on ``symbol`` (an open order, or protection on
        an open position): what a caller deciding if a bar must be walked needs, without
        building a :meth:`position` report."""
        acct = self._accounts.get(account)
        if acct is None:
            acct = self._account(account)  # raises: no such account
        pos = acct.positions.get(symbol)
        if pos is not None and pos.qty and (pos.tp or pos.sl or pos.trail):
            return True
        book = self._books.get(symbol)
        if book is None:
            book = self._book(symbol)  # raises: not listed
        if not book.orders:
            return False
        return any(o.account == account for o in book.orders)

    def protection(self, account: str, symbol: str) -> Protection | None:
        """The open position's take-profit, stop-loss and trailing stop as held now (the
        trailing stop's armed state and running extreme too); None when flat or unprotected."""
        pos = self._account(account).positions.get(symbol)
        if pos is None or not pos.qty or not pos.protected:
            return None
        return Protection(
            qty=pos.qty,
            take_profit=pos.tp,
            stop_loss=pos.sl,
            trailing=pos.trail,
            activation=pos.trail_activation,
            armed=pos.trail_active,
            extreme=pos.trail_extreme,
        )

    def protections(self, account: str) -> dict[str, Protection]:
        """:meth:`protection` of every open position that has any, by symbol."""
        held = {s: self.protection(account, s) for s in sorted(self._account(account).positions)}
        return {s: p for s, p in held.items() if p is not None}

    def wallet(self, account: str) -> WalletReported:
        """Wallet balance, equity = wallet + unrealised PnL, available = equity - margin in use."""
        return self._wallet_report(self._account(account))

    def order(self, account: str, *, order_id: str = "", order_link_id: str = "") -> OrderView:
        return self._find(self._account(account), order_id, order_link_id).view()

    def open_orders(self, account: str, symbol: str | None = None) -> list[OrderView]:
        """Open orders, newest first (Bybit ``/v5/order/realtime``)."""
        acct = self._account(account)
        found = [o for o in acct.open.values() if symbol is None or o.symbol == symbol]
        return [o.view() for o in sorted(found, key=lambda o: -o.seq)]

    def order_history(self, account: str, symbol: str | None = None) -> list[OrderView]:
        """Every order the account ever placed (and TP/SL orders made for it), newest first;
        the open ones alone without ``config.keep_history``."""
        acct = self._account(account)
        found = [o for o in acct.orders.values() if symbol is None or o.symbol == symbol]
        return [o.view() for o in sorted(found, key=lambda o: -o.seq)]

    def executions(
        self,
        account: str,
        *,
        symbol: str | None = None,
        exec_type: ExecType | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 50,
        cursor: str = "",
    ) -> Page[Execution]:
        """Execution history newest first, filtered, in pages of ``limit`` (1..100).

        The cursor is opaque; paging while new fills arrive still returns each older fill once.
        """

        def keep(e: Execution) -> bool:
            f = e.fill
            if (symbol is not None and f.symbol != symbol) or (
                exec_type is not None and f.exec_type is not exec_type
            ):
                return False
            t = e.exec_ms
            return (start_ms is None or t >= start_ms) and (end_ms is None or t <= end_ms)

        return page(self._account(account).executions, keep, limit, cursor)

    def execution(self, account: str, exec_id: str) -> Execution:
        acct = self._account(account)
        try:
            return acct.executions[acct.exec_index[exec_id]]
        except KeyError:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR, "exec_id", exec_id, "no such execution"
            ) from None

    def closed_pnl(
        self,
        account: str,
        *,
        symbol: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 50,
        cursor: str = "",
    ) -> Page[ClosedPnl]:
        """Closed-PnL records newest first, like Bybit ``/v5/position/closed-pnl``."""

        def keep(r: ClosedPnl) -> bool:
            if symbol is not None and r.symbol != symbol:
                return False
            t = r.updated_ms
            return (start_ms is None or t >= start_ms) and (end_ms is None or t <= end_ms)

        return page(self._account(account).closed, keep, limit, cursor)
