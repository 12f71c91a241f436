"""Apply and inspect the ledger's Alembic revisions without an ``alembic.ini``.

The migrations ship inside the package, so the CLI, the tests and the benchmark configure Alembic
in code and need no file in the working directory. These functions are synchronous (Alembic's
PostgreSQL path runs its own event loop); from async code call them via ``asyncio.to_thread``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from alphadesk.adapters.storage import legacy
from alphadesk.adapters.storage.urls import parse

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(url: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("alphadesk.database_url", parse(url).raw.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> list[str]:
    """Upgrade to ``revision``; returns one line per revision applied (empty when up to date).

    A PostgreSQL database holding the original platform's schema is adopted in the same
    transaction (:mod:`legacy`): its tables moved into schema ``legacy``, its bots carried over;
    the lines then also say what was moved and that ``alphadesk sync backfill`` comes next."""
    config = _config(url)
    adoption = legacy.Adoption()
    config.attributes["adoption"] = adoption
    command.upgrade(config, revision)
    applied = list(config.attributes.get("applied", []))
    if not adoption.adopted:
        return applied
    advice = adoption.lines[-1:]
    return adoption.lines[:1] + applied + adoption.lines[1:-1] + advice


def downgrade(url: str | None = None, revision: str = "base") -> list[str]:
    """Downgrade to ``revision``; returns one line per revision undone."""
    config = _config(url)
    command.downgrade(config, revision)
    return list(config.attributes.get("applied", []))


def head() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current(url: str | None = None) -> tuple[str, ...]:
    """The revision(s) the database is at; empty when it was never migrated. Changes nothing."""
    parsed = parse(url)
    if parsed.sqlite_path is not None and not parsed.sqlite_path.exists():
        return ()  # attaching would create the file; a read must not
    config = _config(url)
    config.attributes["read_only"] = True
    script = ScriptDirectory.from_config(config)
    found: list[str] = []

    def _read(rev: Any, context: Any) -> list[Any]:
        found.extend(context.get_current_heads())
        return []

    with EnvironmentContext(config, script, fn=_read, dont_mutate=True):
        script.run_env()
    return tuple(found)
