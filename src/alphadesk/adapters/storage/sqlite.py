"""The ledger on SQLite: the embedded default (``alphadesk demo``, tests, a laptop).

sqlite3 runs in a worker thread (``asyncio.to_thread``) behind an asyncio lock: one connection,
one statement stream, and a whole batch is one ``BEGIN IMMEDIATE … COMMIT`` executed in a single
thread hop, so batching pays off here as on PostgreSQL. The ledger file is attached as schema
``trading`` with WAL and ``synchronous=FULL`` (see :mod:`sqlite_schema` for both choices), so a
returned write is durable. Money is stored as ``str(Decimal)`` and time as fixed-width UTC ISO
text (see the migration's docstring).

Crash safety of the projection: fills commit first and their ``trading.positions`` rows are
saved after, so a process killed in between leaves rows that fold fewer fills than the ledger
holds. The fill writer rebuilds such a row when a new fill touches it, but a row no new fill
touches (the bot's last batch) would stay wrong for good. So every open of the ledger compares
each row's ``fill_count`` with the number of fills the ledger holds for it (one grouped read)
and rebuilds the rows that differ through the fill writer's own rebuild (a compare-and-set, safe
against a live writer in another process): any process that opens the file repairs it.
"""

# SQL here is assembled only from module constants (table and column names); every value is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from alphadesk.adapters.storage import rows, sqlite_schema
from alphadesk.domain.fills import Fill, FillKey
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerRejected, PositionRecord, PositionSave, WriteResult

T = TypeVar("T")
_log = logging.getLogger(__name__)

_PLACEHOLDERS = ", ".join("?" for _ in rows.COLUMN_NAMES)
_INSERT = {
    table: (
        f"INSERT INTO trading.{table} ({', '.join(rows.COLUMN_NAMES)}) VALUES ({_PLACEHOLDERS}) "
        "ON CONFLICT (venue, account, exec_id) DO NOTHING"
    )
    for table in rows.TABLES
}
_SELECT_COLUMNS = ", ".join(rows.COLUMN_NAMES)
_POS_COLS = ", ".join(rows.POSITION_COLUMNS)
_POS_VALUES = ", ".join("?" for _ in rows.POSITION_COLUMNS)
_POS_SET = ", ".join(f"{c} = excluded.{c}" for c in rows.POSITION_COLUMNS[2:])
_NOW = "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"
_POS_INSERT_NEW = (
    f"INSERT INTO trading.positions ({_POS_COLS}) VALUES ({_POS_VALUES}) "
    "ON CONFLICT (bot_id, symbol) DO NOTHING"
)
_POS_UPDATE_CAS = (
    "UPDATE trading.positions SET "
    + ", ".join(f"{c} = ?" for c in rows.POSITION_COLUMNS[2:])
    + f", updated_at = {_NOW} WHERE bot_id = ? AND symbol = ? AND fill_count = ?"
)
_POS_UPSERT_MONOTONE = (
    f"INSERT INTO trading.positions ({_POS_COLS}) VALUES ({_POS_VALUES}) "
    f"ON CONFLICT (bot_id, symbol) DO UPDATE SET {_POS_SET}, updated_at = {_NOW} "
    "WHERE trading.positions.fill_count < excluded.fill_count"
)


# Rows whose fold is behind (or ahead of) the ledger: a count per (bot_id, symbol) over both
# execution tables, as a rebuild counts them, against the row's fill_count (no row: 0).
_STALE_POSITIONS = (
    "SELECT l.bot_id, l.symbol FROM (SELECT bot_id, symbol, count(*) AS n FROM ("
    + " UNION ALL ".join(f"SELECT bot_id, symbol FROM trading.{t}" for t in rows.TABLES)
    + ") GROUP BY bot_id, symbol) AS l LEFT JOIN trading.positions AS p "
    "ON p.bot_id = l.bot_id AND p.symbol = l.symbol "
    "WHERE coalesce(p.fill_count, 0) <> l.n ORDER BY l.bot_id, l.symbol"
)
_PROJECTION_TABLES = frozenset({*rows.TABLES, "positions"})


def _fill_params(fill: Fill) -> tuple[Any, ...]:
    return tuple(rows.sqlite_value(getattr(fill, attr)) for _, attr in rows.FILL_COLUMNS)


class SqliteLedger:
    """:class:`~alphadesk.engine.ports.LedgerStore` on a SQLite file attached as ``trading``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path, *, repair: bool = True) -> SqliteLedger:
        """Open the ledger file; with ``repair`` (the default) first bring every position row
        level with the fills (see the module docstring)."""
        conn = await asyncio.to_thread(sqlite_schema.connect, path)
        ledger = cls(conn)
        if repair:
            try:
                await ledger.repair_positions()
            except BaseException:
                await ledger.close()
                raise
        return ledger

    async def stale_positions(self) -> list[tuple[str, str]]:
        """The (bot_id, symbol) rows whose ``fill_count`` differs from the ledger's count of
        their fills; empty when the schema is not migrated yet."""

        def body(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            tables = {
                str(r[0])
                for r in conn.execute("SELECT name FROM trading.sqlite_master WHERE type='table'")
            }
            if not tables >= _PROJECTION_TABLES:
                return []
            return [(str(r[0]), str(r[1])) for r in conn.execute(_STALE_POSITIONS)]

        return await self._run(body)

    async def repair_positions(self) -> list[tuple[str, str]]:
        """Rebuild from the ledger every row :meth:`stale_positions` finds; returns those keys."""
        stale = await self.stale_positions()
        if stale:
            _log.warning(
                "%d position row(s) behind the ledger (a process stopped between a commit and "
                "its projection): rebuilding %s",
                len(stale),
                stale,
            )
            await FillWriter(self).rebuild_positions(stale)
        return stale

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)

    async def __aenter__(self) -> SqliteLedger:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await sqlite_schema.run_serialised(self._lock, self._conn, fn)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, body: Callable[[], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def insert_fills(self, fills: Sequence[Fill]) -> WriteResult:
        unique, repeats = rows.split_new(fills)
        params = [(rows.table_for(f), _fill_params(f)) for f in unique]

        def insert(conn: sqlite3.Connection, table: str, values: Sequence[Any]) -> int | None:
            """The new row's id, or None when the execution was already stored."""
            cursor = conn.execute(_INSERT[table], values)
            return cursor.lastrowid if cursor.rowcount == 1 else None

        def body(conn: sqlite3.Connection) -> list[int | None]:
            return self._transaction(conn, lambda: [insert(conn, t, p) for t, p in params])

        try:
            ids = await self._run(body) if unique else []
        except (sqlite3.IntegrityError, sqlite3.DataError, ValueError, OverflowError) as exc:
            raise LedgerRejected(f"{type(exc).__name__}: {exc}") from exc
        inserted: list[FillKey] = []
        duplicates: list[FillKey] = []
        high: dict[str, int] = {}
        for fill, (table, _), row_id in zip(unique, params, ids, strict=True):
            if row_id is None:
                duplicates.append(fill.key)
            else:
                inserted.append(fill.key)
                high[table] = max(high.get(table, 0), row_id)
        return WriteResult(tuple(inserted), tuple(duplicates + repeats), high)

    async def fills_after(self, marks: Mapping[str, int]) -> list[Fill]:
        sql, args = rows.fills_after_query(marks, lambda _n: "?")
        if not sql:
            return []
        records = await self._run(lambda conn: conn.execute(sql, args).fetchall())
        return rows.fills_from_rows(records, texts=True)

    async def high_ids(self) -> dict[str, int]:
        sql = " UNION ALL ".join(
            f"SELECT '{table}', coalesce(max(id), 0) FROM trading.{table}" for table in rows.TABLES
        )
        records = await self._run(lambda conn: conn.execute(sql).fetchall())
        return {str(r[0]): int(r[1]) for r in records}

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
            lambda _n: "?", rows.time_text,
            bot_id=bot_id, symbol=symbol, venue=venue, account=account, since=since,
        )  # fmt: skip
        sql = " UNION ALL ".join(
            f"SELECT {_SELECT_COLUMNS} FROM trading.{table}{where}" for table in rows.TABLES
        )
        sql += " ORDER BY exec_time"
        params = args * len(rows.TABLES)
        records = await self._run(lambda conn: conn.execute(sql, params).fetchall())
        return rows.fills_from_rows(records, texts=True)

    async def last_exec_time(self, venue: str, account: str) -> datetime | None:
        sql = (
            "SELECT max(t) FROM ("
            + " UNION ALL ".join(
                f"SELECT max(exec_time) AS t FROM trading.{table} WHERE venue = ? AND account = ?"
                for table in rows.TABLES
            )
            + ")"
        )
        params = (venue, account) * len(rows.TABLES)
        value = await self._run(lambda conn: conn.execute(sql, params).fetchone()[0])
        return rows.time_from_text(value) if value is not None else None

    async def load_positions(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], PositionRecord]:
        sql = f"SELECT {_POS_COLS} FROM trading.positions WHERE bot_id = ? AND symbol = ?"

        def body(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            found = (conn.execute(sql, key).fetchone() for key in keys)
            return [r for r in found if r is not None]

        records = await self._run(body) if keys else []
        return {(r["bot_id"], r["symbol"]): rows.position_from_row(r, texts=True) for r in records}

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        def one(conn: sqlite3.Connection, save: PositionSave) -> bool:
            values = tuple(rows.sqlite_value(v) for v in rows.position_values(save.record))
            if save.expected_count == 0:
                return conn.execute(_POS_INSERT_NEW, values).rowcount == 1
            if save.expected_count is None:
                return conn.execute(_POS_UPSERT_MONOTONE, values).rowcount == 1
            cas = (*values[2:], values[0], values[1], save.expected_count)
            return conn.execute(_POS_UPDATE_CAS, cas).rowcount == 1

        def body(conn: sqlite3.Connection) -> set[tuple[str, str]]:
            return self._transaction(
                conn,
                lambda: {
                    (s.record.position.bot_id, s.record.position.symbol)
                    for s in saves
                    if one(conn, s)
                },
            )

        return await self._run(body) if saves else set()
