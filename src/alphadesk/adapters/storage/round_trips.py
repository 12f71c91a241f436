"""``trading.completed_trades`` (source ``ledger``) on PostgreSQL and SQLite: the round-trip store.

Both implement :class:`alphadesk.engine.ports.RoundTripStore`. A replace is one transaction: the
key's (or bot's) ledger rows in scope that the new set no longer holds are deleted, then every new
row is upserted on ``trade_id``. Upserting rather than deleting everything keeps a venue closed-PnL
share attached to a round trip that did not change (it is cleared when the quantity, gross PnL or
fees of the row change, since its difference would no longer hold). ``completed_trades.bot_id``
references ``trading.bots``, and round trips exist for bots that never registered (a paper run,
the demo, ``unknown``): such a bot gets a placeholder row first (``bot_type`` ``unregistered``,
status ``stopped``, mode ``paper``, capital 0), which the bot's own registration overwrites.

Money: ``numeric`` on PostgreSQL, ``str(Decimal)`` TEXT on SQLite; time: ``timestamptz`` or the
ledger's fixed-width UTC text (see the first migration).
"""

# SQL here is assembled only from module constants (column names); every value is a bound
# parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from alphadesk.adapters.storage import pg_pool, rows, sqlite_schema
from alphadesk.adapters.storage.urls import parse
from alphadesk.domain.enums import Side
from alphadesk.domain.roundtrips import RoundTrip
from alphadesk.engine.ports import RoundTripStore, StoredRoundTrip, VenuePnl

T = TypeVar("T")
SOURCE = "ledger"

_COLUMNS = (
    "trade_id", "bot_id", "symbol",
    "entry_order_id", "entry_client_order_id", "entry_exec_id", "entry_side", "entry_price",
    "entry_qty", "entry_time", "entry_reason", "entry_commission",
    "exit_order_id", "exit_client_order_id", "exit_exec_id", "exit_side", "exit_price",
    "exit_qty", "exit_time", "exit_reason", "exit_commission",
    "gross_pnl", "net_pnl", "pnl_pct", "total_commission", "funding",
    "holding_duration_seconds", "source",
)  # fmt: skip
_UPDATED = [c for c in _COLUMNS if c != "trade_id"]
_SAME_NUMBERS = (
    "completed_trades.entry_qty = excluded.entry_qty"
    " AND completed_trades.gross_pnl = excluded.gross_pnl"
    " AND completed_trades.total_commission = excluded.total_commission"
)
_KEEP_VENUE = ", ".join(
    f"{c} = CASE WHEN {_SAME_NUMBERS} THEN completed_trades.{c} ELSE NULL END"
    for c in ("venue_closed_pnl", "venue_pnl_diff")
)
_SELECT = (
    "trade_id, bot_id, symbol, entry_side, entry_qty, entry_price, exit_price, entry_time, "
    "exit_time, gross_pnl, total_commission, funding, net_pnl, holding_duration_seconds, "
    "entry_reason, exit_reason, exit_order_id, source, venue_closed_pnl, venue_pnl_diff"
)


def _upsert(mark: Callable[[int], str], now: str) -> str:
    values = ", ".join(mark(i) for i in range(1, len(_COLUMNS) + 1))
    sets = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    return (
        f"INSERT INTO trading.completed_trades AS completed_trades ({', '.join(_COLUMNS)}) "
        f"VALUES ({values}) ON CONFLICT (trade_id) DO UPDATE SET {_KEEP_VENUE}, {sets}, "
        f"synced_at = {now}, updated_at = {now}"
    )


def _values(trip: RoundTrip) -> tuple[Any, ...]:
    return (
        trip.trade_id, trip.bot_id, trip.symbol,
        trip.entry_order_id, trip.entry_order_link_id, trip.entry_exec_id, trip.entry_side.value,
        trip.entry_price, trip.qty, trip.entry_time, trip.entry_reason, trip.entry_fee,
        trip.exit_order_id, trip.exit_order_link_id, trip.exit_exec_id, trip.exit_side.value,
        trip.exit_price, trip.qty, trip.exit_time, trip.exit_reason, trip.exit_fee,
        trip.gross_pnl, trip.net_pnl, trip.pnl_pct, trip.fees, trip.funding,
        trip.holding_seconds, SOURCE,
    )  # fmt: skip


def _placeholder_bot(mark: Callable[[int], str]) -> str:
    return (
        "INSERT INTO trading.bots (bot_id, bot_name, bot_type, strategy_name, status, "
        f"deployment_mode, initial_capital) VALUES ({mark(1)}, {mark(1)}, 'unregistered', "
        "'unregistered', 'stopped', 'paper', 0) ON CONFLICT (bot_id) DO NOTHING"
    )


def _filters(
    mark: Callable[[int], str],
    *,
    bot_id: str | None,
    symbol: str | None,
    exit_order_id: str | None,
) -> tuple[str, list[Any]]:
    clauses = [f"source = {mark(1)}"]
    args: list[Any] = [SOURCE]
    for column, value in (("bot_id", bot_id), ("symbol", symbol)):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = {mark(len(args))}")
    if exit_order_id is not None:  # no order id is stored as NULL or ''
        args.append(exit_order_id)
        clauses.append(f"coalesce(exit_order_id, '') = {mark(len(args))}")
    return " WHERE " + " AND ".join(clauses), args


def _stored(
    row: Any, money: Callable[[Any], Decimal], when: Callable[[Any], datetime]
) -> StoredRoundTrip:
    def opt(value: Any) -> Decimal | None:
        return None if value is None else money(value)

    return StoredRoundTrip(
        trade_id=row["trade_id"], bot_id=row["bot_id"], symbol=row["symbol"],
        entry_side=Side(row["entry_side"]), qty=money(row["entry_qty"]),
        entry_price=money(row["entry_price"]), exit_price=money(row["exit_price"]),
        entry_time=when(row["entry_time"]), exit_time=when(row["exit_time"]),
        gross_pnl=money(row["gross_pnl"]), fees=money(row["total_commission"]),
        funding=money(row["funding"]), net_pnl=money(row["net_pnl"]),
        holding_seconds=int(row["holding_duration_seconds"]),
        entry_reason=row["entry_reason"] or "", exit_reason=row["exit_reason"] or "",
        exit_order_id=row["exit_order_id"] or "", source=row["source"],
        venue_closed_pnl=opt(row["venue_closed_pnl"]), venue_pnl_diff=opt(row["venue_pnl_diff"]),
    )  # fmt: skip


def _scope(
    mark: Callable[[int], str], bot_id: str | None, symbol: str | None, since: datetime | None,
    since_value: Callable[[datetime], Any],
) -> tuple[str, list[Any]]:  # fmt: skip
    where, args = _filters(mark, bot_id=bot_id, symbol=symbol, exit_order_id=None)
    if since is not None:
        args.append(since_value(since))
        where += f" AND exit_time >= {mark(len(args))}"
    return where, args


def _count_sql(mark: Callable[[int], str]) -> str:
    return "SELECT " + " + ".join(
        f"(SELECT count(*) FROM trading.{t} WHERE bot_id = {mark(1)} AND symbol = {mark(2)})"
        for t in rows.TABLES
    )


def _pg_mark(n: int) -> str:
    return f"${n}"


def _lite_mark(n: int) -> str:
    return f"?{n}"


_PG_NOW = "now()"
_LITE_NOW = "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"


class PostgresRoundTrips:
    """:class:`RoundTripStore` on PostgreSQL (through PgBouncer: no session state)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresRoundTrips:
        return cls(await pg_pool.create_pool(dsn, min_size=1, max_size=2))

    async def close(self) -> None:
        await self._pool.close()

    async def replace_since(
        self, bot_id: str, symbol: str, since: datetime | None, trips: Sequence[RoundTrip]
    ) -> int:
        return await self._replace(bot_id, symbol, since, trips)

    async def replace_all(self, bot_id: str | None, trips: Sequence[RoundTrip]) -> int:
        return await self._replace(bot_id, None, None, trips)

    async def add_round_trips(self, trips: Sequence[RoundTrip]) -> int:
        return await self._replace(None, None, None, trips, delete=False)

    async def count_fills(self, bot_id: str, symbol: str) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(_count_sql(_pg_mark), bot_id, symbol))

    async def _replace(
        self, bot_id: str | None, symbol: str | None, since: datetime | None,
        trips: Sequence[RoundTrip], *, delete: bool = True,
    ) -> int:  # fmt: skip
        where, args = _scope(_pg_mark, bot_id, symbol, since, lambda t: t)
        keep = {t.trade_id for t in trips}
        async with self._pool.acquire() as conn, conn.transaction():
            sql = f"SELECT trade_id FROM trading.completed_trades{where}"
            stored = await conn.fetch(sql, *args) if delete else []
            gone = [r["trade_id"] for r in stored if r["trade_id"] not in keep]
            if gone:
                await conn.execute(
                    "DELETE FROM trading.completed_trades WHERE trade_id = ANY($1::text[])", gone
                )
            bots = sorted({t.bot_id for t in trips})
            if bots:
                await conn.executemany(_placeholder_bot(_pg_mark), [(b,) for b in bots])
                await conn.executemany(_upsert(_pg_mark, _PG_NOW), [_values(t) for t in trips])
        return len(trips)

    async def list_round_trips(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        exit_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[StoredRoundTrip]:
        where, args = _filters(_pg_mark, bot_id=bot_id, symbol=symbol, exit_order_id=exit_order_id)
        sql = f"SELECT {_SELECT} FROM trading.completed_trades{where} "
        sql += "ORDER BY exit_time DESC, trade_id DESC"
        if limit is not None:
            args.append(limit)
            sql += f" LIMIT ${len(args)}"
        async with self._pool.acquire() as conn:
            found = await conn.fetch(sql, *args)
        return [_stored(r, Decimal, lambda t: t) for r in found]

    async def set_venue_pnl(self, shares: Sequence[VenuePnl]) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "UPDATE trading.completed_trades SET venue_closed_pnl = $2, venue_pnl_diff = $3, "
                "updated_at = now() WHERE trade_id = $1",
                [(s.trade_id, s.venue_closed_pnl, s.venue_pnl_diff) for s in shares],
            )
        return len(shares)


class SqliteRoundTrips:
    """:class:`RoundTripStore` on the SQLite ledger file (its own connection; WAL lets it sit
    beside the ledger's)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteRoundTrips:
        return cls(await asyncio.to_thread(sqlite_schema.connect, path))

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await sqlite_schema.run_serialised(self._lock, self._conn, fn)

    async def _transaction(self, body: Callable[[sqlite3.Connection], T]) -> T:
        return await sqlite_schema.run_transaction(self._lock, self._conn, body)

    async def replace_since(
        self, bot_id: str, symbol: str, since: datetime | None, trips: Sequence[RoundTrip]
    ) -> int:
        return await self._replace(bot_id, symbol, since, trips)

    async def replace_all(self, bot_id: str | None, trips: Sequence[RoundTrip]) -> int:
        return await self._replace(bot_id, None, None, trips)

    async def add_round_trips(self, trips: Sequence[RoundTrip]) -> int:
        return await self._replace(None, None, None, trips, delete=False)

    async def count_fills(self, bot_id: str, symbol: str) -> int:
        def body(conn: sqlite3.Connection) -> int:
            return int(conn.execute(_count_sql(_lite_mark), (bot_id, symbol)).fetchone()[0])

        return await self._run(body)

    async def _replace(
        self, bot_id: str | None, symbol: str | None, since: datetime | None,
        trips: Sequence[RoundTrip], *, delete: bool = True,
    ) -> int:  # fmt: skip
        where, args = _scope(_lite_mark, bot_id, symbol, since, rows.time_text)
        keep = {t.trade_id for t in trips}
        values = [tuple(rows.sqlite_value(v) for v in _values(t)) for t in trips]
        bots = sorted({t.bot_id for t in trips})
        select = f"SELECT trade_id FROM trading.completed_trades{where}"

        def body(conn: sqlite3.Connection) -> int:
            stored = conn.execute(select, args).fetchall() if delete else []
            gone = [(r[0],) for r in stored if r[0] not in keep]
            conn.executemany("DELETE FROM trading.completed_trades WHERE trade_id = ?", gone)
            conn.executemany(_placeholder_bot(_lite_mark), [(b,) for b in bots])
            conn.executemany(_upsert(_lite_mark, _LITE_NOW), values)
            return len(values)

        return await self._transaction(body)

    async def list_round_trips(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        exit_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[StoredRoundTrip]:
        where, args = _filters(
            _lite_mark, bot_id=bot_id, symbol=symbol, exit_order_id=exit_order_id
        )
        sql = f"SELECT {_SELECT} FROM trading.completed_trades{where} "
        sql += "ORDER BY exit_time DESC, trade_id DESC"
        if limit is not None:
            args.append(limit)
            sql += f" LIMIT ?{len(args)}"

        def body(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return list(conn.execute(sql, args))

        found = await self._run(body)
        return [_stored(r, Decimal, rows.time_from_text) for r in found]

    async def set_venue_pnl(self, shares: Sequence[VenuePnl]) -> int:
        params = [(str(s.venue_closed_pnl), str(s.venue_pnl_diff), s.trade_id) for s in shares]

        def body(conn: sqlite3.Connection) -> int:
            conn.executemany(
                "UPDATE trading.completed_trades SET venue_closed_pnl = ?, venue_pnl_diff = ?, "
                f"updated_at = {_LITE_NOW} WHERE trade_id = ?",
                params,
            )
            return len(params)

        return await self._transaction(body)


async def open_round_trips(url: str) -> PostgresRoundTrips | SqliteRoundTrips:
    """The round-trip store for a ``DATABASE_URL`` (PostgreSQL or SQLite)."""
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresRoundTrips.connect(parsed.asyncpg_dsn)
    if parsed.sqlite_path is None:
        raise ValueError("DATABASE_URL: an in-memory SQLite database holds no ledger")
    return await SqliteRoundTrips.connect(parsed.sqlite_path)


if TYPE_CHECKING:  # mypy checks the shapes against the engine's port
    _pg: type[RoundTripStore] = PostgresRoundTrips
    _lite: type[RoundTripStore] = SqliteRoundTrips
