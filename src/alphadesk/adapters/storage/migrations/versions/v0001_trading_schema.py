"""The trading schema: the seed's tables and columns, plus what exactly-once needs.

Revision ID: 0001
Revises:
Create Date: 2025-11-10

Types, and why:
- Money and quantities are PostgreSQL ``numeric`` *without* precision or scale. Bybit sends
  decimal strings whose precision varies by field and symbol (``"0.00001234"``, ``"26.3725275"``,
  funding amounts with 8+ places), and the position projection stores averages computed to
  Decimal's 28 digits. Unconstrained numeric stores every digit it is given, never rounds, never
  overflows a fixed precision, and hands back the same scale it got (``"0.500"`` reads back as
  ``Decimal("0.500")``), so a fill round-trips exactly. The domain already validates sign and
  type, so a declared scale would add rounding and nothing else.
- On SQLite the same columns are TEXT holding ``str(Decimal)``: a NUMERIC-affinity column would
  turn ``"95900.12345678901234"`` into a float and lose digits. SQLite arithmetic on these values
  (the seed's ``SUM(exec_price * exec_qty)``) still works, in floating point, as SQLite always does.
- Times are ``timestamptz`` on PostgreSQL; on SQLite, TEXT in one fixed ISO-8601 UTC form
  (``2025-05-03T11:06:40.353000+00:00``) so that text order is time order and SQLite's ``DATE()``
  reads it.

Departures from the seed's deployed schema (seed_system.md §10.1), each on purpose:
- ``fills`` gains venue, account, exec_id (UNIQUE together: the exactly-once key), exec_type,
  is_maker, closed_size, fee_currency, order_type. ``commission`` is the fee actually paid (negative
  for a maker rebate) and ``client_order_id`` is Bybit's orderLinkId.
- Funding and settlement executions go to ``funding`` (same columns, same unique key): they are
  PnL but not trades, so the seed's queries over ``fills`` (trade counts, volume) keep meaning what
  they meant.
- ``completed_trades`` drops the seed's UNIQUE (bot_id, symbol, entry_time, exit_time): FIFO round
  trips of partial fills can share both times; ``trade_id`` (derived from the two exec ids) is the
  identity. ``exit_time >= entry_time`` instead of ``>``, since two fills can share a millisecond.
  ``source`` also allows ``ledger`` and ``backtest``; ``funding`` and the two exec ids are added.
- Indexes on ``fills`` are the seed's minus ``close_reason`` (a handful of distinct values, and
  every index is paid on each insert), plus the exactly-once unique key.
- The seed's partial indexes with ``NOW()`` in the predicate (illegal: predicates must be
  IMMUTABLE, §9.13) are not reproduced.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

S = "trading"
SIDES = "('Buy', 'Sell')"


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _money() -> sa.types.TypeEngine[Any]:
    return sa.Numeric() if _pg() else sa.Text()


def _time() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True) if _pg() else sa.Text()


def _now() -> sa.TextClause:
    if _pg():
        return sa.text("now()")
    return sa.text("(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00')")


def _id() -> sa.Column[object]:
    kind = sa.BigInteger() if _pg() else sa.Integer()
    return sa.Column("id", kind, primary_key=True, autoincrement=True)


def _num(column: str) -> str:
    """A numeric comparison operand: TEXT money on SQLite must be cast to compare as a number."""
    return column if _pg() else f"CAST({column} AS REAL)"


def _check_in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _execution_columns(exec_types: tuple[str, ...]) -> list[SchemaItem]:
    return [
        _id(),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("exec_id", sa.String(100), nullable=False),
        sa.Column("bot_id", sa.String(50), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("client_order_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("exec_price", _money(), nullable=False),
        sa.Column("exec_qty", _money(), nullable=False),
        sa.Column("exec_time", _time(), nullable=False),
        sa.Column("commission", _money(), nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=False, server_default="USDT"),
        sa.Column("exec_type", sa.String(16), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("closed_size", _money(), nullable=False, server_default="0"),
        sa.Column("order_type", sa.String(20), nullable=False, server_default=""),
        sa.Column("close_reason", sa.String(50)),
        sa.Column("created_at", _time(), nullable=False, server_default=_now()),
        sa.CheckConstraint(f"side IN {SIDES}", name="side_valid"),
        sa.CheckConstraint(f"{_num('exec_price')} > 0", name="price_positive"),
        sa.CheckConstraint(f"{_num('exec_qty')} > 0", name="qty_positive"),
        sa.CheckConstraint(f"{_num('closed_size')} >= 0", name="closed_size_non_negative"),
        sa.CheckConstraint(_check_in("exec_type", exec_types), name="exec_type_valid"),
        sa.UniqueConstraint("venue", "account", "exec_id", name="exec_key"),
    ]


def _named(table: str, items: list[SchemaItem]) -> list[SchemaItem]:
    """Prefix constraint names with the table so they are unique across the schema."""
    for item in items:
        if isinstance(item, sa.Constraint) and isinstance(item.name, str):
            item.name = f"{table}_{item.name}"
    return items


def _execution_indexes(table: str) -> None:
    """Every index costs each insert; these serve rebuilds (bot, symbol), the seed's recent-fills
    queries and the gap-fill's newest-execution lookup (a backward scan of exec_time that stops at
    the account's latest row)."""
    op.create_index(
        f"idx_{table}_bot_symbol_time",
        table,
        ["bot_id", "symbol", sa.text("exec_time DESC")],
        schema=S,
    )
    op.create_index(f"idx_{table}_exec_time", table, [sa.text("exec_time DESC")], schema=S)


def upgrade() -> None:
    if _pg():
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {S}")
    _bots()
    _fills()
    _orders()
    _positions()
    _completed_trades()
    _sync_status()
    _equity()


def _bots() -> None:
    op.create_table(
        "bots",
        *_named(
            "bots",
            [
                sa.Column("bot_id", sa.String(50), primary_key=True),
                sa.Column("bot_name", sa.String(100), nullable=False),
                sa.Column("bot_type", sa.String(50), nullable=False),
                sa.Column("strategy_name", sa.String(100), nullable=False),
                sa.Column("status", sa.String(20), nullable=False, server_default="active"),
                sa.Column("deployment_mode", sa.String(20), nullable=False),
                sa.Column("initial_capital", _money(), nullable=False),
                sa.Column("current_equity", _money()),
                sa.Column("last_heartbeat", _time()),
                sa.Column("created_at", _time(), nullable=False, server_default=_now()),
                sa.Column("updated_at", _time(), nullable=False, server_default=_now()),
                sa.CheckConstraint(
                    _check_in("status", ("active", "paused", "stopped", "reducing", "halted")),
                    name="status_valid",
                ),
                sa.CheckConstraint(
                    _check_in("deployment_mode", ("live", "demo", "testnet", "paper")),
                    name="deployment_mode_valid",
                ),
            ],
        ),
        schema=S,
    )
    op.create_index("idx_bots_status", "bots", ["status"], schema=S)
    op.create_index("idx_bots_bot_type", "bots", ["bot_type"], schema=S)


def _fills() -> None:
    # Every Bybit execType that moves a position (literal on purpose: a revision never changes).
    trades = ("Trade", "AdlTrade", "BustTrade", "BlockTrade", "MovePosition", "Delivery")
    op.create_table("fills", *_named("fills", _execution_columns(trades)), schema=S)
    _execution_indexes("fills")
    op.create_index("idx_fills_order_id", "fills", ["order_id"], schema=S)
    op.create_index("idx_fills_client_order_id", "fills", ["client_order_id"], schema=S)
    funding = ("Funding", "Settle")
    op.create_table("funding", *_named("funding", _execution_columns(funding)), schema=S)
    _execution_indexes("funding")


def _orders() -> None:
    history = postgresql.JSONB() if _pg() else sa.Text()
    op.create_table(
        "orders",
        *_named(
            "orders",
            [
                _id(),
                sa.Column("venue", sa.String(32), nullable=False, server_default="bybit"),
                sa.Column("account", sa.String(64), nullable=False, server_default=""),
                sa.Column("bot_id", sa.String(50), nullable=False),
                sa.Column("symbol", sa.String(20), nullable=False),
                sa.Column("order_id", sa.String(100), nullable=False),
                sa.Column("client_order_id", sa.String(200), nullable=False, server_default=""),
                sa.Column("order_type", sa.String(20), nullable=False),
                sa.Column("side", sa.String(10), nullable=False),
                sa.Column("quantity", _money(), nullable=False),
                sa.Column("price", _money()),
                sa.Column("status", sa.String(32), nullable=False),
                sa.Column("status_history", history, nullable=False, server_default="[]"),
                sa.Column("created_at", _time(), nullable=False, server_default=_now()),
                sa.Column("updated_at", _time(), nullable=False, server_default=_now()),
                sa.CheckConstraint(f"side IN {SIDES}", name="side_valid"),
                sa.CheckConstraint(f"{_num('quantity')} > 0", name="quantity_positive"),
                sa.UniqueConstraint("order_id", name="order_id_key"),
            ],
        ),
        schema=S,
    )
    op.create_index("idx_orders_bot_id", "orders", ["bot_id"], schema=S)
    op.create_index("idx_orders_client_order_id", "orders", ["client_order_id"], schema=S)
    op.create_index("idx_orders_status", "orders", ["status"], schema=S)


def _positions() -> None:
    op.create_table(
        "positions",
        *_named(
            "positions",
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("bot_id", sa.String(50), nullable=False),
                sa.Column("symbol", sa.String(20), nullable=False),
                sa.Column("size", _money(), nullable=False, server_default="0"),
                sa.Column("side", sa.String(10)),
                sa.Column("avg_entry_price", _money()),
                sa.Column("qty", _money(), nullable=False, server_default="0"),
                sa.Column("cost", _money(), nullable=False, server_default="0"),
                sa.Column("realized_pnl", _money(), nullable=False, server_default="0"),
                sa.Column("fees", _money(), nullable=False, server_default="0"),
                sa.Column("funding", _money(), nullable=False, server_default="0"),
                sa.Column("fill_count", sa.BigInteger(), nullable=False, server_default="0"),
                sa.Column("last_exec_time", _time()),
                sa.Column("last_exec_id", sa.String(100), nullable=False, server_default=""),
                sa.Column("updated_at", _time(), nullable=False, server_default=_now()),
                sa.CheckConstraint(f"side IS NULL OR side IN {SIDES}", name="side_valid"),
                sa.UniqueConstraint("bot_id", "symbol", name="bot_symbol_key"),
            ],
        ),
        schema=S,
    )
    op.create_index("idx_positions_bot_id", "positions", ["bot_id"], schema=S)
    op.create_index("idx_positions_symbol", "positions", ["symbol"], schema=S)


def _trade_leg(leg: str) -> list[SchemaItem]:
    return [
        sa.Column(f"{leg}_order_id", sa.String(100)),
        sa.Column(f"{leg}_client_order_id", sa.String(200)),
        sa.Column(f"{leg}_exec_id", sa.String(100)),
        sa.Column(f"{leg}_side", sa.String(10), nullable=False),
        sa.Column(f"{leg}_price", _money(), nullable=False),
        sa.Column(f"{leg}_qty", _money(), nullable=False),
        sa.Column(f"{leg}_time", _time(), nullable=False),
        sa.Column(f"{leg}_reason", sa.String(50)),
        sa.Column(f"{leg}_commission", _money(), nullable=False, server_default="0"),
    ]


def _completed_trades() -> None:
    sources = ("bybit_api", "websocket", "manual", "ledger", "backtest")
    op.create_table(
        "completed_trades",
        *_named(
            "completed_trades",
            [
                _id(),
                sa.Column("trade_id", sa.String(100), nullable=False),
                sa.Column(
                    "bot_id", sa.String(50), sa.ForeignKey(f"{S}.bots.bot_id"), nullable=False
                ),
                sa.Column("symbol", sa.String(20), nullable=False),
                *_trade_leg("entry"),
                *_trade_leg("exit"),
                sa.Column("gross_pnl", _money()),
                sa.Column("net_pnl", _money()),
                sa.Column("pnl_pct", _money()),
                sa.Column("total_commission", _money()),
                sa.Column("funding", _money(), nullable=False, server_default="0"),
                sa.Column("holding_duration_seconds", sa.Integer()),
                sa.Column("source", sa.String(20), nullable=False, server_default="bybit_api"),
                sa.Column("synced_at", _time(), nullable=False, server_default=_now()),
                sa.Column("created_at", _time(), nullable=False, server_default=_now()),
                sa.Column("updated_at", _time(), nullable=False, server_default=_now()),
                sa.UniqueConstraint("trade_id", name="trade_id_key"),
                sa.CheckConstraint(_check_in("source", sources), name="source_valid"),
                sa.CheckConstraint(
                    "(entry_side = 'Buy' AND exit_side = 'Sell')"
                    " OR (entry_side = 'Sell' AND exit_side = 'Buy')",
                    name="sides_opposite",
                ),
                sa.CheckConstraint("exit_time >= entry_time", name="exit_after_entry"),
            ],
        ),
        schema=S,
    )
    indexes: tuple[tuple[str, list[str | sa.TextClause]], ...] = (
        ("bot_exit", ["bot_id", sa.text("exit_time DESC")]),
        ("symbol_exit", ["symbol", sa.text("exit_time DESC")]),
        ("bot_net_pnl", ["bot_id", sa.text("net_pnl DESC")]),
        ("synced_at", [sa.text("synced_at DESC")]),
    )
    for name, cols in indexes:
        op.create_index(f"idx_completed_trades_{name}", "completed_trades", cols, schema=S)


def _sync_status() -> None:
    op.create_table(
        "sync_status",
        *_named(
            "sync_status",
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column(
                    "bot_id", sa.String(50), sa.ForeignKey(f"{S}.bots.bot_id"), nullable=False
                ),
                sa.Column("sync_type", sa.String(20), nullable=False),
                sa.Column("start_time", _time(), nullable=False),
                sa.Column("end_time", _time(), nullable=False),
                sa.Column("trades_synced", sa.Integer(), nullable=False, server_default="0"),
                sa.Column("status", sa.String(20), nullable=False, server_default="running"),
                sa.Column("error_message", sa.Text()),
                sa.Column("sync_started_at", _time(), nullable=False, server_default=_now()),
                sa.Column("sync_completed_at", _time()),
                sa.Column("duration_seconds", _money()),
                sa.CheckConstraint(
                    _check_in("sync_type", ("backfill", "hourly", "manual", "gap_fill")),
                    name="sync_type_valid",
                ),
                sa.CheckConstraint(
                    _check_in("status", ("running", "completed", "failed", "partial")),
                    name="status_valid",
                ),
                sa.UniqueConstraint(
                    "bot_id", "sync_type", "start_time", "end_time", name="window_key"
                ),
            ],
        ),
        schema=S,
    )
    op.create_index(
        "idx_sync_status_bot_started",
        "sync_status",
        ["bot_id", sa.text("sync_started_at DESC")],
        schema=S,
    )
    op.create_index("idx_sync_status_type_status", "sync_status", ["sync_type", "status"], schema=S)


def _equity() -> None:
    op.create_table(
        "equity",
        *_named(
            "equity",
            [
                _id(),
                sa.Column("bot_id", sa.String(50), nullable=False),
                sa.Column("venue", sa.String(32), nullable=False, server_default="bybit"),
                sa.Column("account", sa.String(64), nullable=False, server_default=""),
                sa.Column("equity", _money(), nullable=False),
                sa.Column("wallet_balance", _money()),
                sa.Column("available_balance", _money()),
                sa.Column("unrealized_pnl", _money()),
                sa.Column("snapshot_time", _time(), nullable=False),
                sa.Column("source", sa.String(20), nullable=False, server_default="venue"),
                sa.Column("created_at", _time(), nullable=False, server_default=_now()),
                sa.UniqueConstraint("bot_id", "snapshot_time", name="bot_time_key"),
            ],
        ),
        schema=S,
    )
    op.create_index(
        "idx_equity_bot_time", "equity", ["bot_id", sa.text("snapshot_time DESC")], schema=S
    )


def downgrade() -> None:
    for table in (
        "equity",
        "sync_status",
        "completed_trades",
        "positions",
        "orders",
        "funding",
        "fills",
        "bots",
    ):
        op.drop_table(table, schema=S)
