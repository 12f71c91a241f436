"""What ``DATABASE_URL`` names, and the one spelling of it each library wants.

Operators write ``postgresql://user@host:port/db`` or ``sqlite:///path``; asyncpg,
SQLAlchemy and sqlite3 each want a different form, and getting it wrong silently (for example a
relative SQLite path resolved against another working directory) would put fills in a second file.
So the URL is parsed once, here, into a :class:`DatabaseUrl` and every consumer asks it. A bare
word is refused rather than taken as a file name (``DATABASE_URL=notaurl`` used to create a SQLite
file called ``notaurl``), and :func:`unreachable` says, before any work starts, why a database
cannot be opened.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from alphadesk.domain.errors import InvalidField

DEFAULT_URL = "sqlite:///alphadesk.db"
ENV_VAR = "DATABASE_URL"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    kind: Literal["postgresql", "sqlite"]
    raw: str
    sqlite_path: Path | None = None

    @property
    def asyncpg_dsn(self) -> str:
        """``postgresql://…`` without a SQLAlchemy driver suffix: what asyncpg accepts."""
        if self.kind != "postgresql":
            raise InvalidField("database_url", self.redacted, "is not a PostgreSQL URL")
        scheme, rest = self.raw.split("://", 1)
        return "postgresql://" + rest if "+" in scheme or scheme == "postgres" else self.raw

    @property
    def sqlalchemy_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return "postgresql+asyncpg://" + self.asyncpg_dsn.split("://", 1)[1]

    @property
    def redacted(self) -> str:
        """The URL with any password replaced, for messages and logs."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        parts = urlsplit(self.raw)
        if parts.password is None:
            return self.raw
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()


def parse(url: str | None = None) -> DatabaseUrl:
    """Parse ``url``, or ``$DATABASE_URL``, or the default SQLite file ``./alphadesk.db``."""
    raw = url if url is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidField("database_url", raw, "must be a non-empty URL")
    raw = raw.strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        return DatabaseUrl("postgresql", raw)
    if scheme.split("+", 1)[0] == "sqlite":
        path_part = raw.split("://", 1)[1]
        if not path_part.startswith("/") or path_part in ("/", "/:memory:"):
            raise InvalidField(
                "database_url", raw, "SQLite URLs are sqlite:///relative or sqlite:////absolute"
            )
        return DatabaseUrl("sqlite", raw, Path(path_part[1:]).resolve())
    raise InvalidField(
        "database_url", _redact_unknown(raw), "must be postgresql://… or sqlite:///…"
    )


def _redact_unknown(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.password:
        return raw.replace(parts.password, "***")
    return raw


#: How long the start-up check waits for PostgreSQL (or PgBouncer) to answer.
PROBE_TIMEOUT_S = 5.0


async def unreachable(url: DatabaseUrl, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why the database cannot be opened (one short phrase), or None when it can.

    PostgreSQL: one connection is opened and closed; SQLite: the file's folder must exist (the
    file itself is created by the migrations). The phrase never contains the password.
    """
    if url.kind == "sqlite":
        assert url.sqlite_path is not None
        folder = url.sqlite_path.parent
        return None if await asyncio.to_thread(folder.is_dir) else f"folder {folder} does not exist"
    import asyncpg

    try:
        conn = await asyncpg.connect(url.asyncpg_dsn, timeout=timeout_s)
    except ConnectionRefusedError:
        return "connection refused (is the server running?)"
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except asyncpg.InvalidPasswordError:
        return "authentication failed"
    except asyncpg.InvalidCatalogNameError:
        return "the database does not exist"
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return _without_password(url, f"{type(exc).__name__}: {exc}".splitlines()[0])
    await conn.close()
    return None


def _without_password(url: DatabaseUrl, text: str) -> str:
    password = urlsplit(url.raw).password
    return text.replace(password, "***") if password else text
