"""Every owner command in the ledger: ``trading.control_audit``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Who asked what of which bot, when, and what came of it (issue 15: control commands are logged
with who and when in the ledger, not only in logs). One row per command, written by the control
facade when it publishes the command (outcome ``published``) or refuses it (``refused: ...``);
the bot that applies it sets ``outcome`` (``applied: REDUCING``) and ``applied_at``.
``command_id`` is the command's id on ``commands:{bot_id}``. ``bot_id`` is free text, not a
foreign key: a refused command names a bot that may not exist. ``args`` is a JSON object as
text. Times are ``timestamptz`` on PostgreSQL and the ledger's fixed-width UTC text on SQLite.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

S = "trading"


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _time() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True) if _pg() else sa.Text()


def upgrade() -> None:
    kind = sa.BigInteger() if _pg() else sa.Integer()
    op.create_table(
        "control_audit",
        sa.Column("id", kind, primary_key=True, autoincrement=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("bot_id", sa.String(100), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("args", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("outcome", sa.String(500), nullable=False),
        sa.Column("applied_at", _time(), nullable=True),
        sa.UniqueConstraint("command_id", name="control_audit_command_key"),
        schema=S,
    )
    op.create_index("idx_control_audit_at", "control_audit", ["at"], schema=S)


def downgrade() -> None:
    op.drop_index("idx_control_audit_at", table_name="control_audit", schema=S)
    op.drop_table("control_audit", schema=S)
