"""What ``DATABASE_URL`` names, and the one spelling of it each library wants.

Operators write ``postgresql://user@host:port/db`` or ``sqlite:///path`` (or a bare path); asyncpg,
SQLAlchemy and sqlite3 each want a different form, and getting it wrong silently (for example a
relative SQLite path resolved against another working directory) would put fills in a second file.
So the URL is parsed once, here, into a :class:`DatabaseUrl` and every consumer asks it.
"""

from __future__ import annotations

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
    if not scheme:
        return DatabaseUrl("sqlite", raw, Path(raw).resolve())
    raise InvalidField(
        "database_url", _redact_unknown(raw), "must be postgresql://… or sqlite:///…"
    )


def _redact_unknown(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.password:
        return raw.replace(parts.password, "***")
    return raw
