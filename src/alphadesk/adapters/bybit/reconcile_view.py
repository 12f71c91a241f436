"""The venue's side of ``alphadesk reconcile``: one account's positions, open orders, executions
and closed PnL as Bybit reports them, in the shape :mod:`alphadesk.engine.reconcile` compares.

Executions and closed PnL are read window by window (7-day slices) exactly as the listener's
gap-fill reads them (:mod:`alphadesk.adapters.bybit.history`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from alphadesk.adapters.bybit.client import BybitClient
from alphadesk.engine.reconcile import AccountView, OrderView, PositionView


class BybitAccountView:
    def __init__(self, client: BybitClient) -> None:
        self._client = client
        self.account = client.config.account

    async def view(self, start: datetime, end: datetime) -> AccountView:
        client = self._client
        positions = {
            p.symbol: PositionView(p.signed_size, p.avg_price)
            for p in await client.trading.positions()
            if p.size > 0
        }
        orders = {
            o.order_id: OrderView(o.order_id, o.symbol, o.side, o.qty - o.filled_qty)
            for o in await client.trading.open_orders()
            if not o.status.is_terminal
        }
        fills = {f.exec_id: f for f in await client.history.executions(start, end)}
        closed: dict[str, Decimal] = defaultdict(Decimal)
        for record in await client.history.closed_pnl(start, end):
            closed[record.order_id] += record.closed_pnl
        return AccountView(self.account, positions, fills, open_orders=orders,
                           closed_pnl=dict(closed))
