"""The one way this package opens an asyncpg pool, shaped for PgBouncer in transaction mode.

- ``statement_cache_size=0``: PgBouncer 1.18 hands each transaction to any server connection,
  where a prepared statement of another transaction does not exist.
- No reset on release: asyncpg's default sends ``RESET ALL; UNLISTEN *; CLOSE ALL; ...`` every
  time a connection goes back to the pool, one round trip per use. Nothing here keeps session
  state (settings are ``SET LOCAL``, no LISTEN, cursors or advisory locks), and behind PgBouncer
  the session is not ours to reset anyway; asyncpg still clears its own per-connection state.
- ``command_timeout``: a statement stuck on a dead server raises instead of hanging the caller
  (the listener then spools; a bot retries) rather than waiting on TCP keep-alives.
"""

from __future__ import annotations

import asyncpg

COMMAND_TIMEOUT_S = 30.0


async def _keep_session(_conn: asyncpg.Connection) -> None:
    return None


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        statement_cache_size=0,
        command_timeout=COMMAND_TIMEOUT_S,
        reset=_keep_session,
    )
