"""PostgreSQL's JIT off for the ledger's database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The ledger's statements are short writes and key lookups, which JIT compilation never speeds up.
It does fire on asyncpg's catalog query (run on a connection the first time a statement uses a
type asyncpg has no codec for): measured at 0.7 s instead of 4 ms here, in the middle of a
listener's flood. asyncpg turns JIT off around that query with session settings, which behind
PgBouncer in transaction mode land on whichever server connection is free, so the setting has to
be the database's own. Without the right to alter the database (not its owner) the upgrade goes
on and PostgreSQL logs a warning saying what to run.
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _set(value: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    command = f"ALTER DATABASE %I {value}"
    op.execute(
        "DO $$ BEGIN "
        f"EXECUTE format('{command}', current_database()); "
        "EXCEPTION WHEN insufficient_privilege THEN "
        "RAISE WARNING 'alphadesk: JIT stays as configured for database %: run "
        f"ALTER DATABASE % {value} as its owner', current_database(), current_database(); "
        "END $$"
    )


def upgrade() -> None:
    _set("SET jit = off")


def downgrade() -> None:
    _set("RESET jit")
