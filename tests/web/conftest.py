"""The web tests reuse the control tests' desk: a migrated ledger (SQLite with the in-process
state, or PostgreSQL through PgBouncer with real Redis) seeded with known fills."""

from control.conftest import Desk, desk

__all__ = ["Desk", "desk"]
