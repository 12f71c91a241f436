"""The ledger on PostgreSQL through PgBouncer (transaction pooling), with asyncpg.

PgBouncer in transaction mode hands each transaction to whichever server connection is free, so
nothing may outlive a transaction on the server: the pool runs with ``statement_cache_size=0``
(asyncpg then uses the unnamed statement, re-parsed each time) and never uses session state
(``SET``, advisory locks, LISTEN). A batch of fills is one statement, ``INSERT … SELECT FROM
jsonb_array_elements($1::jsonb) … ON CONFLICT (venue, account, exec_id) DO NOTHING RETURNING …``
(the batch as one JSON document, see :mod:`pg_json`): one round
trip for any batch size, duplicates (earlier batches, a racing writer) skipped by the unique key,
and the RETURNING list says exactly which rows are new. Commit waits for the WAL flush
(``synchronous_commit`` is the server's, on by default), so a returned result is durable.
"""

# SQL here is assembled only from module constants (table and column names); every value is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import asyncpg

from alphadesk.adapters.storage import pg_json, pg_pool, rows
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.engine.ports import LedgerRejected, PositionRecord, PositionSave, WriteResult

_PG_TYPES = {
    "exec_price": "numeric",
    "exec_qty": "numeric",
    "commission": "numeric",
    "closed_size": "numeric",
    "exec_time": "timestamptz",
    "is_maker": "bool",
    "seq": "bigint",
}


def _insert_sql(table: str) -> str:
    types = [_PG_TYPES.get(column, "text") for column in rows.COLUMN_NAMES]
    return (
        f"INSERT INTO trading.{table} ({', '.join(rows.COLUMN_NAMES)}) "
        f"{pg_json.select_rows(rows.COLUMN_NAMES, types)} "
        "ON CONFLICT (venue, account, exec_id) DO NOTHING "
        f"RETURNING venue, account, exec_id, id, '{table}' AS ledger_table"
    )


_INSERT = {table: _insert_sql(table) for table in rows.TABLES}
_SELECT_COLUMNS = ", ".join(rows.COLUMN_NAMES)

_POS_TYPES = (
    "text", "text", "numeric", "text", "numeric", "numeric", "numeric", "numeric", "numeric",
    "numeric", "bigint", "timestamptz", "text",
)  # fmt: skip
_POS_UNNEST = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_POS_TYPES, 1))
_POS_COLS = ", ".join(rows.POSITION_COLUMNS)
_POS_SET = ", ".join(f"{c} = u.{c}" for c in rows.POSITION_COLUMNS[2:])
_POS_SET_EXCLUDED = ", ".join(f"{c} = EXCLUDED.{c}" for c in rows.POSITION_COLUMNS[2:])

_POS_INSERT_NEW = (
    f"INSERT INTO trading.positions ({_POS_COLS}) SELECT * FROM unnest({_POS_UNNEST}) "
    "ON CONFLICT (bot_id, symbol) DO NOTHING RETURNING bot_id, symbol"
)
_POS_UPDATE_CAS = (
    f"UPDATE trading.positions AS p SET {_POS_SET}, updated_at = now() "
    f"FROM unnest({_POS_UNNEST}, ${len(_POS_TYPES) + 1}::bigint[]) "
    f"AS u({_POS_COLS}, expected) "
    "WHERE p.bot_id = u.bot_id AND p.symbol = u.symbol AND p.fill_count = u.expected "
    "RETURNING p.bot_id, p.symbol"
)
_POS_UPSERT_MONOTONE = (
    f"INSERT INTO trading.positions ({_POS_COLS}) SELECT * FROM unnest({_POS_UNNEST}) "
    f"ON CONFLICT (bot_id, symbol) DO UPDATE SET {_POS_SET_EXCLUDED}, updated_at = now() "
    "WHERE trading.positions.fill_count < EXCLUDED.fill_count RETURNING bot_id, symbol"
)


def _key_order(fill: Fill) -> tuple[str, str, str]:
    return (fill.venue, fill.account, fill.exec_id)


DEADLOCK_RETRIES = 3
_ROW_ERROR_CLASSES = frozenset({"22", "23"})


class PostgresLedger:
    """:class:`~alphadesk.engine.ports.LedgerStore` on PostgreSQL; safe behind PgBouncer."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 1, max_size: int = 4) -> PostgresLedger:
        pool = await pg_pool.create_pool(dsn, min_size=min_size, max_size=max_size)
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> PostgresLedger:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult:
        unique, repeats = rows.split_new(fills)
        by_table: dict[str, list[tuple[Any, ...]]] = {table: [] for table in rows.TABLES}
        # Key order: two writers inserting overlapping batches lock the same keys in the same
        # order, so they queue behind each other instead of deadlocking.
        for fill in sorted(unique, key=_key_order):
            by_table[rows.table_for(fill)].append(
                tuple(getattr(fill, attr) for _, attr in rows.FILL_COLUMNS)
            )
        statements = [
            (_INSERT[table], [pg_json.rows_json(values)])
            for table, values in by_table.items()
            if values
        ]
        try:
            returned = await self._atomic(statements)
        except asyncpg.PostgresError as exc:
            # SQLSTATE class 22 (data exception) and 23 (integrity): the rows, not the server
            if (getattr(exc, "sqlstate", None) or "")[:2] in _ROW_ERROR_CLASSES:
                raise LedgerRejected(f"{type(exc).__name__}: {exc}") from exc
            raise
        new = {(r["venue"], r["account"], r["exec_id"]) for r in returned}
        high: dict[str, int] = {}
        for r in returned:
            high[r["ledger_table"]] = max(high.get(r["ledger_table"], 0), r["id"])
        inserted: list[FillKey] = []
        duplicates: list[FillKey] = []
        for fill in unique:
            key = fill.key
            (inserted if (key.venue, key.account, key.exec_id) in new else duplicates).append(key)
        return WriteResult(tuple(inserted), tuple(duplicates + repeats), high)

    async def fills_after(self, marks: Mapping[str, int]) -> list[Fill]:
        sql, args = rows.fills_after_query(marks, lambda n: f"${n}")
        if not sql:
            return []
        async with self._pool.acquire() as conn:
            records = await conn.fetch(sql, *args)
        return rows.fills_from_rows(records, texts=False)

    async def high_ids(self) -> dict[str, int]:
        sql = " UNION ALL ".join(
            f"SELECT '{table}' AS t, coalesce(max(id), 0) AS id FROM trading.{table}"
            for table in rows.TABLES
        )
        async with self._pool.acquire() as conn:
            return {r["t"]: int(r["id"]) for r in await conn.fetch(sql)}

    async def read_fills(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        venue: str | None = None,
        account: str | None = None,
        since: datetime | None = None,
    ) -> list[Fill]:
        where, args = rows.fill_filters(
            lambda n: f"${n}", lambda t: t,
            bot_id=bot_id, symbol=symbol, venue=venue, account=account, since=since,
        )  # fmt: skip
        sql = " UNION ALL ".join(
            f"SELECT {_SELECT_COLUMNS} FROM trading.{table}{where}" for table in rows.TABLES
        )
        async with self._pool.acquire() as conn:
            records = await conn.fetch(f"{sql} ORDER BY exec_time", *args)
        return rows.fills_from_rows(records, texts=False)

    async def last_exec_time(self, venue: str, account: str) -> datetime | None:
        sql = " UNION ALL ".join(
            f"SELECT max(exec_time) AS t FROM trading.{table} WHERE venue = $1 AND account = $2"
            for table in rows.TABLES
        )
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(f"SELECT max(t) FROM ({sql}) AS latest", venue, account)
        return value if isinstance(value, datetime) else None

    async def load_positions(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], PositionRecord]:
        if not keys:
            return {}
        sql = (
            f"SELECT {_POS_COLS} FROM trading.positions WHERE (bot_id, symbol) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[]))"
        )
        async with self._pool.acquire() as conn:
            records = await conn.fetch(sql, [k[0] for k in keys], [k[1] for k in keys])
        return {(r["bot_id"], r["symbol"]): rows.position_from_row(r, texts=False) for r in records}

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        saves = sorted(saves, key=lambda s: (s.record.position.bot_id, s.record.position.symbol))
        new = [rows.position_values(s.record) for s in saves if s.expected_count == 0]
        cas = [
            (*rows.position_values(s.record), s.expected_count) for s in saves if s.expected_count
        ]
        monotone = [rows.position_values(s.record) for s in saves if s.expected_count is None]
        width = len(rows.POSITION_COLUMNS)
        statements = [
            (sql, rows.unnest_columns(values, cols))
            for sql, values, cols in (
                (_POS_INSERT_NEW, new, width),
                (_POS_UPDATE_CAS, cas, width + 1),
                (_POS_UPSERT_MONOTONE, monotone, width),
            )
            if values
        ]
        # The projection is derived data: the fill writer rebuilds a row from the ledger the first
        # time it touches it after a restart, so a crash that loses this commit loses nothing.
        # When it takes several statements, their transaction does not wait for its WAL flush;
        # the usual save is one statement, which runs on its own (see _atomic).
        rows_written = await self._atomic(statements, durable=False)
        return {(r["bot_id"], r["symbol"]) for r in rows_written}

    async def _atomic(
        self, statements: Sequence[tuple[str, Sequence[Any]]], *, durable: bool = True
    ) -> list[Any]:
        """Run the statements as one transaction and return all their rows. A single statement
        is atomic on its own, so it skips BEGIN/COMMIT (and, when ``durable`` is False, the
        SET LOCAL): one round trip instead of four costs less than the WAL flush it waits for."""
        if not statements:
            return []
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                return await self._run_once(statements, durable)
            except asyncpg.DeadlockDetectedError:
                # Rows are locked in key order, so this needs an unusual interleaving; the
                # transaction was rolled back and every statement is idempotent: run it again.
                if attempt == DEADLOCK_RETRIES:
                    raise
        raise AssertionError("unreachable")

    async def _run_once(
        self, statements: Sequence[tuple[str, Sequence[Any]]], durable: bool
    ) -> list[Any]:
        async with self._pool.acquire() as conn:
            if len(statements) == 1:
                sql, args = statements[0]
                return list(await conn.fetch(sql, *args))
            returned: list[Any] = []
            async with conn.transaction():
                if not durable:  # SET LOCAL ends with the transaction: safe behind PgBouncer
                    await conn.execute("SET LOCAL synchronous_commit TO OFF")
                for sql, args in statements:
                    returned.extend(await conn.fetch(sql, *args))
            return returned
