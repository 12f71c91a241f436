"""Who answers at a PostgreSQL URL: the server itself, or a pooler in front of it.

PgBouncer passes queries through, so ``inet_server_port()`` reports the port PostgreSQL itself
listens on; when that differs from the port the URL names, something in between forwards the
connection. ``alphadesk db backup`` refuses such a URL (pg_dump's session settings would leak
into pooled connections) and ``alphadesk health`` reports the ledger's path through PgBouncer.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from alphadesk.adapters.storage.urls import DatabaseUrl

CONNECT_TIMEOUT_S = 10.0


class ProbeFailed(RuntimeError):
    """The server did not answer; the message names why, never the password."""


@dataclass(frozen=True, slots=True)
class Probe:
    url_port: int
    server_port: int | None
    """None over a Unix socket (no port to compare)."""
    server_major: int
    server_version: str

    @property
    def pooled(self) -> bool:
        return self.server_port is not None and self.server_port != self.url_port


def masked(text: str, url: DatabaseUrl) -> str:
    password = urlsplit(url.asyncpg_dsn).password
    return text.replace(password, "***") if password else text


async def probe(url: DatabaseUrl, timeout_s: float = CONNECT_TIMEOUT_S) -> Probe:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.asyncpg_dsn, timeout=timeout_s, statement_cache_size=0)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if isinstance(exc, TimeoutError):
            text = f"no answer within {timeout_s:g} s"
        raise ProbeFailed(masked(text, url)) from None
    try:
        row = await conn.fetchrow(
            "SELECT inet_server_port() AS port, current_setting('server_version_num') AS num, "
            "current_setting('server_version') AS version"
        )
    finally:
        await conn.close()
    assert row is not None
    port = int(row["port"]) if row["port"] is not None else None
    return Probe(urlsplit(url.asyncpg_dsn).port or 5432, port, int(row["num"]) // 10000,
                 str(row["version"]))
