"""The venue's closed PnL beside each ledger round trip, and the difference.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

``trading.completed_trades`` rows of source ``ledger`` are the engine's FIFO round trips
(:mod:`alphadesk.engine.round_trips`). Bybit keeps its own record of each closing order's
realised PnL (``/v5/position/closed-pnl``, net of the open and close fees, without funding);
``venue_closed_pnl`` is a round trip's share of that record (pro rata to quantity over the
closing order's round trips) and ``venue_pnl_diff`` that share minus the round trip's
``gross_pnl - total_commission``. Both are nullable: NULL until a record is attached. Money is
``numeric`` on PostgreSQL and TEXT on SQLite, as in 0001.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

S = "trading"
COLUMNS = ("venue_closed_pnl", "venue_pnl_diff")


def _money() -> sa.types.TypeEngine[Any]:
    return sa.Numeric() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("completed_trades", sa.Column(column, _money(), nullable=True), schema=S)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("completed_trades", column, schema=S)
