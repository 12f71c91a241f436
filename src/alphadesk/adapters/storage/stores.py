"""Open the ledger store that ``DATABASE_URL`` names: the one place that picks a backend."""

from __future__ import annotations

from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.adapters.storage.urls import parse
from alphadesk.engine.ports import LedgerStore


async def open_store(url: str | None = None) -> LedgerStore:
    """A connected store for ``url`` (default ``$DATABASE_URL``, else ``./alphadesk.db``).

    The schema must already be migrated (``alphadesk db upgrade``).
    """
    parsed = parse(url)
    if parsed.kind == "postgresql":
        return await PostgresLedger.connect(parsed.asyncpg_dsn)
    assert parsed.sqlite_path is not None
    return await SqliteLedger.connect(parsed.sqlite_path)
