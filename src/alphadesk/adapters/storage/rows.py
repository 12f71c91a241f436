"""The mapping between a domain :class:`Fill` and a row of ``trading.fills`` / ``trading.funding``.

Both backends use the same column list and the same table choice, so a fill written through
either reads back identical: every Decimal digit (PostgreSQL ``numeric`` / SQLite TEXT) and the
UTC instant to the microsecond. Reads come back in fold order
(:func:`alphadesk.domain.ordering.fold_key`): the database sorts by time, and the rule for one
instant (cash before trades, the venue's ``seq``, then ids) is applied here, by the domain's own
key, so no SQL spells out a second copy of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from alphadesk.domain.fills import Fill, FillKey, fill_as_recorded
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.positions import Position
from alphadesk.engine.ports import PositionRecord

TABLES = ("fills", "funding")


class Row(Protocol):
    """What both drivers' rows offer (asyncpg.Record, sqlite3.Row): lookup by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


# (column, Fill attribute); order is the INSERT's column order.
FILL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("venue", "venue"),
    ("account", "account"),
    ("exec_id", "exec_id"),
    ("bot_id", "bot_id"),
    ("symbol", "symbol"),
    ("order_id", "order_id"),
    ("client_order_id", "order_link_id"),
    ("side", "side"),
    ("exec_price", "price"),
    ("exec_qty", "qty"),
    ("exec_time", "exec_time"),
    ("commission", "fee"),
    ("fee_currency", "fee_currency"),
    ("exec_type", "exec_type"),
    ("is_maker", "is_maker"),
    ("closed_size", "closed_size"),
    ("order_type", "order_type"),
    ("close_reason", "close_reason"),
    ("seq", "seq"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c for c, _ in FILL_COLUMNS)
MONEY_COLUMNS = frozenset({"exec_price", "exec_qty", "commission", "closed_size"})

POSITION_COLUMNS: tuple[str, ...] = (
    "bot_id",
    "symbol",
    "size",
    "side",
    "avg_entry_price",
    "qty",
    "cost",
    "realized_pnl",
    "fees",
    "funding",
    "fill_count",
    "last_exec_time",
    "last_exec_id",
)


def table_for(fill: Fill) -> str:
    """Trades go to ``fills``; funding and settlement (no position change) go to ``funding``."""
    return "fills" if fill.moves_position else "funding"


def split_new(fills: Sequence[Fill]) -> tuple[list[Fill], list[FillKey]]:
    """First occurrence of each key, in order, and the keys of later repeats within the batch."""
    seen: set[FillKey] = set()
    unique: list[Fill] = []
    repeats: list[FillKey] = []
    for fill in fills:
        key = fill.key
        if key in seen:
            repeats.append(key)
        else:
            seen.add(key)
            unique.append(fill)
    return unique, repeats


def sqlite_value(value: Any) -> Any:
    """A bound value as SQLite stores it: Decimal and datetime to their TEXT forms, a StrEnum to
    plain str, the rest unchanged."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, str):
        return str(value)
    return value


def unnest_columns(values: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Row tuples to one list per column: the arrays PostgreSQL's ``unnest`` takes."""
    if not values:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*values, strict=True)]


def fills_after_query(
    marks: Mapping[str, int], placeholder: Callable[[int], str]
) -> tuple[str, list[int]]:
    """SQL and arguments for the fills stored after ``marks`` (row id per table; a table not
    named is left out), shared by both backends; ("", []) when nothing is asked."""
    parts = [(table, marks[table]) for table in TABLES if table in marks]
    if not parts:
        return "", []
    columns = ", ".join(COLUMN_NAMES)
    sql = " UNION ALL ".join(
        f"SELECT {columns} FROM trading.{table} WHERE id > {placeholder(n)}"  # noqa: S608
        for n, (table, _) in enumerate(parts, 1)
    )
    return f"{sql} ORDER BY exec_time", [mark for _, mark in parts]


def fill_filters(
    mark: Callable[[int], str],
    since_value: Callable[[datetime], Any],
    *,
    bot_id: str | None,
    symbol: str | None,
    venue: str | None,
    account: str | None,
    since: datetime | None,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause and its arguments for reading fills back; ``mark(n)`` spells the
    n-th placeholder (``$n`` on PostgreSQL, ``?`` on SQLite), ``since_value`` the time value."""
    filters: list[str] = []
    args: list[Any] = []
    for column, value in (("bot_id", bot_id), ("symbol", symbol), ("venue", venue),
                          ("account", account)):  # fmt: skip
        if value is not None:
            args.append(value)
            filters.append(f"{column} = {mark(len(args))}")
    if since is not None:
        args.append(since_value(since))
        filters.append(f"exec_time >= {mark(len(args))}")
    return (f" WHERE {' AND '.join(filters)}" if filters else ""), args


def time_text(value: datetime) -> str:
    """The one SQLite text form of an instant: fixed width, UTC, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def time_from_text(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def fills_from_rows(records: Sequence[Row], *, texts: bool) -> list[Fill]:
    """The rows as fills, in fold order."""
    return in_fold_order(fill_from_row(r, texts=texts) for r in records)


def fill_from_row(row: Row, *, texts: bool) -> Fill:
    """Rebuild a Fill from a row; ``texts`` when money and time come back as SQLite TEXT."""
    data: dict[str, Any] = {}
    for column, attr in FILL_COLUMNS:
        value = row[column]
        if texts and column in MONEY_COLUMNS:
            value = Decimal(value)
        elif texts and column == "exec_time":
            value = time_from_text(value)
        elif column == "is_maker":
            value = bool(value)
        elif column == "close_reason" and value is None:
            value = ""
        data[attr] = value
    return fill_as_recorded(data)  # a row recorded under older bounds is still read


def position_values(record: PositionRecord) -> tuple[Any, ...]:
    """Values for POSITION_COLUMNS; ``side`` and ``avg_entry_price`` are NULL when flat."""
    p = record.position
    return (
        p.bot_id,
        p.symbol,
        p.size,
        p.side.value if p.side is not None else None,
        p.avg_entry_price if not p.is_flat else None,
        p.qty,
        p.cost,
        p.realized_pnl,
        p.fees,
        p.funding,
        record.fill_count,
        record.last_exec_time,
        record.last_exec_id,
    )


def position_from_row(row: Row, *, texts: bool) -> PositionRecord:
    def money(column: str) -> Decimal:
        return Decimal(row[column])  # TEXT on SQLite, already Decimal from asyncpg

    last = row["last_exec_time"]
    if texts and last is not None:
        last = time_from_text(last)
    position = Position(
        bot_id=row["bot_id"],
        symbol=row["symbol"],
        qty=money("qty"),
        cost=money("cost"),
        realized_pnl=money("realized_pnl"),
        fees=money("fees"),
        funding=money("funding"),
        updated_at=last,
    )
    return PositionRecord(position, int(row["fill_count"]), last, row["last_exec_id"])
