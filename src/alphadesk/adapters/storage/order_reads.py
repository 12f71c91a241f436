"""The ledger's open orders of an account (``trading.orders``), for ``alphadesk reconcile``.

An order is open here when its last recorded status is not a terminal one (Filled, Cancelled,
PartiallyFilledCanceled, Rejected, Deactivated); the listener keeps the status current from the
order stream.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg

from alphadesk.adapters.storage import sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.domain.enums import OrderStatus, Side
from alphadesk.engine.reconcile import OrderView

_TERMINAL = [s.value for s in OrderStatus if s.is_terminal]
_COLUMNS = "order_id, symbol, side, quantity"


async def open_orders(url: str, venue: str, account: str) -> dict[str, OrderView]:
    """``{order_id: OrderView}`` of the account's orders not in a terminal status."""
    parsed = parse(url)
    if parsed.kind == "postgresql":
        conn = await asyncpg.connect(parsed.asyncpg_dsn, statement_cache_size=0)
        try:
            rows = [tuple(r) for r in await conn.fetch(
                f"SELECT {_COLUMNS} FROM trading.orders WHERE venue = $1 AND account = $2"
                " AND NOT (status = ANY($3::text[]))", venue, account, _TERMINAL,
            )]  # fmt: skip
        finally:
            await conn.close()
    else:
        assert parsed.sqlite_path is not None
        path = parsed.sqlite_path

        def read() -> list[tuple[str, str, str, str]]:
            conn = sqlite_schema.connect(path)
            try:
                marks = ", ".join("?" for _ in _TERMINAL)
                return list(conn.execute(
                    f"SELECT {_COLUMNS} FROM trading.orders WHERE venue = ? AND account = ?"
                    f" AND status NOT IN ({marks})", (venue, account, *_TERMINAL),
                ))  # fmt: skip
            finally:
                conn.close()

        rows = await asyncio.to_thread(read)
    return {
        str(order_id): OrderView(str(order_id), str(symbol), Side.parse(side, "order.side"),
                                 Decimal(str(qty)))
        for order_id, symbol, side, qty in rows
    }
