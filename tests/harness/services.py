"""Where the test servers are, read from the environment that scripts/services.sh writes.

The defaults equal what services.sh sets up, so a plain `.venv/bin/pytest` works once the
services answer. A missing server is reported by name, with the variable that points at it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import pytest

PG_DSN_ENV = "ALPHADESK_TEST_PG_DSN"
PGBOUNCER_DSN_ENV = "ALPHADESK_TEST_PGBOUNCER_DSN"
REDIS_URL_ENV = "ALPHADESK_TEST_REDIS_URL"
ALLOW_SKIP_ENV = "ALPHADESK_ALLOW_SKIP_SERVICES"

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PGBOUNCER_DSN = "postgresql://postgres@127.0.0.1:6432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

_HOW_TO_START = (
    "Start the services with `scripts/services.sh` (or run the whole suite with `./scripts/test`), "
    f"or set {ALLOW_SKIP_ENV}=1 to skip tests that need them instead of failing."
)


@dataclass(frozen=True)
class Service:
    """One server the tests reach: its name, the URL, and the variable that overrides it."""

    name: str
    url: str
    env_var: str
    default_port: int

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of the URL; the default port where the URL names none."""
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or self.default_port


@dataclass(frozen=True)
class ServiceEndpoints:
    """The three URLs the tests use, as services.sh exported them (or the same defaults)."""

    postgres: Service
    pgbouncer: Service
    redis: Service

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceEndpoints:
        """Read the endpoints from `environ` (default os.environ); unset or empty means default."""
        env = os.environ if environ is None else environ

        def get(var: str, default: str) -> str:
            return env.get(var) or default

        return cls(
            postgres=Service("PostgreSQL", get(PG_DSN_ENV, DEFAULT_PG_DSN), PG_DSN_ENV, 5432),
            pgbouncer=Service(
                "PgBouncer", get(PGBOUNCER_DSN_ENV, DEFAULT_PGBOUNCER_DSN), PGBOUNCER_DSN_ENV, 6432
            ),
            redis=Service("Redis", get(REDIS_URL_ENV, DEFAULT_REDIS_URL), REDIS_URL_ENV, 6379),
        )


def skipping_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a missing service may skip its tests (opt-in; by default they fail)."""
    env = os.environ if environ is None else environ
    return env.get(ALLOW_SKIP_ENV, "").strip().lower() in {"1", "true", "yes"}


@cache
def _probe(host: str, port: int, timeout: float) -> str | None:
    """None if something accepts TCP connections at host:port, else why not. Cached per run."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def unavailable_reason(service: Service, timeout: float = 2.0) -> str | None:
    """None when `service` answers, else a message that names it and says how to fix it."""
    host, port = service.address
    error = _probe(host, port, timeout)
    if error is None:
        return None
    return (
        f"{service.name} is not answering at {host}:{port} "
        f"({service.env_var}={service.url}): {error}. {_HOW_TO_START}"
    )


def require(*services: Service) -> None:
    """Fail the current test (skip it, when allowed) if any of `services` does not answer."""
    reasons = [r for r in map(unavailable_reason, services) if r is not None]
    if not reasons:
        return
    message = "\n".join(reasons)
    if skipping_allowed():
        pytest.skip(message)
    pytest.fail(message, pytrace=False)
