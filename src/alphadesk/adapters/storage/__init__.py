"""The ledger's storage: one schema (``trading``) on PostgreSQL or SQLite, migrated by Alembic."""
