"""Alembic migrations of the ``trading`` schema (PostgreSQL and SQLite alike)."""
