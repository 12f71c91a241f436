"""The venue's execution sequence (Bybit's ``seq``) on every recorded execution.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Bybit's exec ids are random, so fills of one millisecond (hundreds in a busy minute) had no
order but ``exec_id``'s, and a position folded in that order drifts from the venue's average
price. ``seq`` is the order the venue matched them in; the fold order
(:mod:`alphadesk.domain.ordering`) uses it after the time and the cash-before-trades rank.

A nullable ``bigint`` (INTEGER on SQLite) on ``fills`` and ``funding``: rows recorded before this
revision have none (NULL), and the fold order places them after sequenced fills of the same
instant. No index: the ledger reads by (bot, symbol, time) and sorts within an instant in Python.
The ``positions`` projection keeps its ``last_exec_time``/``last_exec_id``: the writer's fold tail
compares full fold keys in memory and never reads the stored ones back to decide.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

S = "trading"
TABLES = ("fills", "funding")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("seq", sa.BigInteger(), nullable=True), schema=S)


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "seq", schema=S)
