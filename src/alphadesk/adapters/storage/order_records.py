"""``trading.orders`` and ``trading.equity`` on PostgreSQL or SQLite.

Storage's side of the ingest's ``OrderRecorder`` and ``EquityRecorder`` ports
(:mod:`alphadesk.engine.ingest`). :func:`open_records` opens its own connection from
``DATABASE_URL`` (a small asyncpg pool through PgBouncer, or a second SQLite connection to the
same WAL file), separate from the ledger's.

Orders are upserted by ``order_id``. Each distinct (status, updated time) is appended once to
``status_history`` (a JSON list), so a replayed push changes nothing; the row's current status is
taken only from an update at least as new as the stored one, so a late ``New`` never overwrites a
``Filled``. Equity snapshots are keyed by (bot_id, snapshot_time); of two reports in the same
millisecond the later one stays. An account shared by bots is stored under the account's label.
"""

# SQL here is assembled only from module constants; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from alphadesk.adapters.storage import pg_json, pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.domain.events import OrderUpdated, WalletReported

if TYPE_CHECKING:
    from alphadesk.engine.ingest import EquityRecorder, OrderRecorder

_ORDER_COLUMNS = (
    "venue", "account", "bot_id", "symbol", "order_id", "client_order_id", "order_type", "side",
    "quantity", "price", "status", "status_history", "created_at", "updated_at",
)  # fmt: skip


_to_json = msgspec.json.Encoder().encode  # a few times cheaper than json.dumps, once per order


def _json_text(value: object) -> str:
    return _to_json(value).decode()


def _history_entry(update: OrderUpdated) -> dict[str, str]:
    order = update.order
    return {
        "status": order.status.value,
        "at": order.updated_at.isoformat(),
        "filled_qty": str(order.filled_qty),
    }


def merge(
    stored: tuple[list[dict[str, str]], datetime, str] | None, update: OrderUpdated
) -> tuple[list[dict[str, str]], str, datetime]:
    """(history, current status, updated_at) after ``update``; pure, shared by both backends."""
    entry = _history_entry(update)
    order = update.order
    if stored is None:
        return [entry], order.status.value, order.updated_at
    history, updated_at, status = stored
    if not any(e["status"] == entry["status"] and e["at"] == entry["at"] for e in history):
        history = sorted([*history, entry], key=lambda e: e["at"])
    if order.updated_at >= updated_at:
        return history, order.status.value, order.updated_at
    return history, status, updated_at


def _values(
    update: OrderUpdated, history: list[dict[str, str]], status: str, updated_at: datetime
) -> tuple[Any, ...]:
    o = update.order
    return (
        update.venue,
        update.account,
        o.bot_id,
        o.symbol,
        o.order_id,
        o.order_link_id,
        o.order_type.value,
        o.side.value,
        o.qty,
        o.price,
        status,
        _json_text(history),
        o.created_at,
        updated_at,
    )


_ORDER_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "text",
    "numeric", "numeric", "text", "jsonb", "timestamptz", "timestamptz",
)  # fmt: skip
_EQUITY_COLUMNS = (
    "bot_id", "venue", "account", "equity", "wallet_balance", "available_balance",
    "unrealized_pnl", "snapshot_time",
)  # fmt: skip
_EQUITY_TYPES = (
    "text", "text", "text", "numeric", "numeric", "numeric", "numeric", "timestamptz",
)  # fmt: skip


# The merge that ``merge`` does in Python, done by the upsert itself on the stored row: one
# statement per batch, no read, no explicit transaction (the row lock of ON CONFLICT serialises
# two writers). History entries are kept once per (status, at), ordered by ``at`` (bytewise, as
# Python compares str) with stored entries before new ones on ties; the status moves only to an
# update at least as new as the stored one.
_PG_ORDERS_UPSERT = (
    f"INSERT INTO trading.orders ({', '.join(_ORDER_COLUMNS)}) "
    f"{pg_json.select_rows(_ORDER_COLUMNS, _ORDER_TYPES)} "
    "ON CONFLICT (order_id) DO UPDATE SET "
    "status = CASE WHEN EXCLUDED.updated_at >= trading.orders.updated_at "
    "THEN EXCLUDED.status ELSE trading.orders.status END, "
    "updated_at = GREATEST(trading.orders.updated_at, EXCLUDED.updated_at), "
    "status_history = ("
    "SELECT jsonb_agg(h.e ORDER BY h.e->>'at' COLLATE \"C\", h.n) FROM ("
    "SELECT DISTINCT ON (x.e->>'status', x.e->>'at') x.e, x.n "
    "FROM jsonb_array_elements(trading.orders.status_history || EXCLUDED.status_history) "
    "WITH ORDINALITY AS x(e, n) ORDER BY x.e->>'status', x.e->>'at', x.n) AS h)"
)
_PG_EQUITY_UPSERT = (
    f"INSERT INTO trading.equity ({', '.join(_EQUITY_COLUMNS)}) "
    f"{pg_json.select_rows(_EQUITY_COLUMNS, _EQUITY_TYPES)} "
    "ON CONFLICT (bot_id, snapshot_time) DO UPDATE SET equity = EXCLUDED.equity, "
    "wallet_balance = EXCLUDED.wallet_balance, available_balance = EXCLUDED.available_balance, "
    "unrealized_pnl = EXCLUDED.unrealized_pnl"
)


class PostgresRecords:
    def __init__(self, pool: asyncpg.Pool, equity_bots: Mapping[str, str]) -> None:
        self._pool = pool
        self._equity_bots = dict(equity_bots)

    @classmethod
    async def connect(cls, dsn: str, equity_bots: Mapping[str, str]) -> PostgresRecords:
        pool = await pg_pool.create_pool(dsn, min_size=1, max_size=2)
        return cls(pool, equity_bots)

    async def record_orders(self, updates: Sequence[OrderUpdated]) -> None:
        # One statement per batch, not two round trips per update: a busy listener sees
        # thousands of order updates a second. The batch's own updates of one order are merged
        # here; the statement merges the result with the stored row.
        merged: dict[str, tuple[list[dict[str, str]], datetime, str]] = {}
        final: dict[str, tuple[Any, ...]] = {}
        for update in updates:
            history, status, updated_at = merge(merged.get(update.order.order_id), update)
            merged[update.order.order_id] = (history, updated_at, status)
            final[update.order.order_id] = _values(update, history, status, updated_at)
        ordered = [final[i] for i in sorted(final)]  # key order: writers cannot deadlock
        async with self._pool.acquire() as conn:
            await conn.execute(_PG_ORDERS_UPSERT, pg_json.rows_json(ordered))

    async def record_equity(self, reports: Sequence[WalletReported]) -> None:
        # one row per (bot, time) in the statement (ON CONFLICT cannot touch a row twice);
        # of two reports in the same millisecond the later one stays
        latest = {
            (bot, r.at): (bot, r.venue, r.account, r.equity, r.wallet_balance,
                          r.available_balance, r.unrealized_pnl, r.at)
            for r in reports
            for bot in (self._equity_bots.get(r.account, r.account),)
        }  # fmt: skip
        async with self._pool.acquire() as conn:  # one statement: atomic on its own
            await conn.execute(_PG_EQUITY_UPSERT, pg_json.rows_json(list(latest.values())))

    async def close(self) -> None:
        await self._pool.close()


class SqliteRecords:
    def __init__(self, conn: sqlite3.Connection, equity_bots: Mapping[str, str]) -> None:
        self._conn = conn
        self._equity_bots = dict(equity_bots)
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Any, equity_bots: Mapping[str, str]) -> SqliteRecords:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path), equity_bots)

    async def _transaction(self, body: Any) -> None:
        await sqlite_schema.run_transaction(self._lock, self._conn, body)

    async def record_orders(self, updates: Sequence[OrderUpdated]) -> None:
        marks = ", ".join("?" for _ in _ORDER_COLUMNS)
        upsert = (
            f"INSERT INTO trading.orders ({', '.join(_ORDER_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, "
            "status_history = excluded.status_history, updated_at = excluded.updated_at"
        )
        select = "SELECT status_history, updated_at, status FROM trading.orders WHERE order_id = ?"

        def body(conn: sqlite3.Connection) -> None:
            for update in updates:
                row = conn.execute(select, (update.order.order_id,)).fetchone()
                stored = (
                    None
                    if row is None
                    else (json.loads(row[0]), rows.time_from_text(row[1]), row[2])
                )
                values = _values(update, *merge(stored, update))
                conn.execute(upsert, tuple(rows.sqlite_value(v) for v in values))

        await self._transaction(body)

    async def record_equity(self, reports: Sequence[WalletReported]) -> None:
        sql = (
            "INSERT INTO trading.equity (bot_id, venue, account, equity, wallet_balance, "
            "available_balance, unrealized_pnl, snapshot_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (bot_id, snapshot_time) DO UPDATE SET equity = excluded.equity, "
            "wallet_balance = excluded.wallet_balance, "
            "available_balance = excluded.available_balance, "
            "unrealized_pnl = excluded.unrealized_pnl"
        )

        def body(conn: sqlite3.Connection) -> None:
            for r in reports:
                values = (
                    self._equity_bots.get(r.account, r.account),
                    r.venue,
                    r.account,
                    r.equity,
                    r.wallet_balance,
                    r.available_balance,
                    r.unrealized_pnl,
                    r.at,
                )
                conn.execute(sql, tuple(rows.sqlite_value(v) for v in values))

        await self._transaction(body)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


async def open_records(url: str, equity_bots: Mapping[str, str]) -> PostgresRecords | SqliteRecords:
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresRecords.connect(parsed.asyncpg_dsn, equity_bots)
    return await SqliteRecords.connect(parsed.sqlite_path, equity_bots)


if TYPE_CHECKING:  # mypy checks the shapes: the ingest's ports, by structure
    _pg_orders: type[OrderRecorder] = PostgresRecords
    _pg_equity: type[EquityRecorder] = PostgresRecords
    _lite_orders: type[OrderRecorder] = SqliteRecords
    _lite_equity: type[EquityRecorder] = SqliteRecords
