"""The web service's settings (``ALPHADESK_WEB_*``), validated before anything listens.

The dashboard can halt and flatten bots, so it refuses to start exposed: on an address other
than loopback it needs TLS and a password, and it never starts without any credential at all.
Every error names the variable (never the value of a secret).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alphadesk.web.passwords import hash_password, is_hash, token_digest

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_BACKTESTS = "./backtests"


class WebSettingsError(ValueError):
    """A web setting that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Account:
    """One login: a user name, a role, and the scrypt hash of its password (or None)."""

    name: str
    role: Role
    password_hash: str | None
    token_sha256: str | None

    def __repr__(self) -> str:  # the hashes stay out of logs too
        return f"Account(name={self.name!r}, role={self.role!r})"


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    accounts: tuple[Account, ...] = ()
    session_secret: str = ""
    backtests_dir: Path = Path(DEFAULT_BACKTESTS)
    login_attempts: int = 5
    login_window_s: float = 300.0
    poll_s: float = 2.0

    def __repr__(self) -> str:
        return f"WebConfig(host={self.host!r}, port={self.port}, tls={self.tls})"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise WebSettingsError(f"ALPHADESK_WEB_PORT={raw!r}: must be an integer in [0, 65535]")
    return int(raw)


def _positive(name: str, raw: str | None, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 86_400:
        raise WebSettingsError(f"{name}={raw!r}: must be a number in (0, 86400)")
    return value


def _file(name: str, raw: str | None) -> Path | None:
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise WebSettingsError(f"{name}={raw!r}: no such file")
    return path


def _account(env: Mapping[str, str], role: Role) -> Account | None:
    upper = role.upper()
    name = env.get(f"ALPHADESK_WEB_{upper}_USER") or role
    if not name.isprintable() or ":" in name or len(name) > 64:
        raise WebSettingsError(
            f"ALPHADESK_WEB_{upper}_USER={name!r}: must be printable, at most 64 characters, no ':'"
        )
    password = env.get(f"ALPHADESK_WEB_{upper}_PASSWORD") or ""
    token = env.get(f"ALPHADESK_WEB_{upper}_TOKEN") or ""
    if not password and not token:
        return None
    if password and not is_hash(password) and len(password) < 8:
        raise WebSettingsError(
            f"ALPHADESK_WEB_{upper}_PASSWORD: too short (at least 8 characters, or a hash from "
            "`alphadesk web hash-password`)"
        )
    if token and len(token) < 16:
        raise WebSettingsError(f"ALPHADESK_WEB_{upper}_TOKEN: too short (at least 16 characters)")
    password_hash = None
    if password:
        password_hash = password if is_hash(password) else hash_password(password)
    return Account(name, role, password_hash, token_digest(token) if token else None)


def load(env: Mapping[str, str] | None = None, *, host: str | None = None,
         port: int | None = None) -> WebConfig:  # fmt: skip
    """Read and check the web settings; command-line ``host``/``port`` win over the environment."""
    env = os.environ if env is None else env
    host = host or env.get("ALPHADESK_WEB_HOST") or DEFAULT_HOST
    port = _port(env.get("ALPHADESK_WEB_PORT")) if port is None else port
    cert = _file("ALPHADESK_WEB_TLS_CERT", env.get("ALPHADESK_WEB_TLS_CERT"))
    key = _file("ALPHADESK_WEB_TLS_KEY", env.get("ALPHADESK_WEB_TLS_KEY"))
    if (cert is None) != (key is None):
        missing = "ALPHADESK_WEB_TLS_KEY" if key is None else "ALPHADESK_WEB_TLS_CERT"
        raise WebSettingsError(f"{missing}: TLS needs both a certificate and a key")
    accounts = tuple(a for a in (_account(env, r) for r in ROLES) if a is not None)
    if len({a.name for a in accounts}) != len(accounts):  # fmt: skip
        raise WebSettingsError(
            "ALPHADESK_WEB_VIEWER_USER: must differ from ALPHADESK_WEB_ADMIN_USER"
        )
    if not accounts:
        raise WebSettingsError(
            "ALPHADESK_WEB_ADMIN_PASSWORD is not set: every page and API call needs a login "
            "(set ALPHADESK_WEB_ADMIN_PASSWORD and/or ALPHADESK_WEB_VIEWER_PASSWORD, or *_TOKEN)"
        )
    if not is_loopback(host):
        if cert is None:
            raise WebSettingsError(
                f"ALPHADESK_WEB_HOST={host!r} is not a loopback address: refusing to serve without "
                "TLS (set ALPHADESK_WEB_TLS_CERT and ALPHADESK_WEB_TLS_KEY)"
            )
        if not any(a.password_hash for a in accounts):
            raise WebSettingsError(
                f"ALPHADESK_WEB_HOST={host!r} is not a loopback address: refusing to serve without "
                "a password (set ALPHADESK_WEB_ADMIN_PASSWORD)"
            )
    secret = env.get("ALPHADESK_WEB_SESSION_SECRET") or ""
    if secret and len(secret) < 32:
        raise WebSettingsError("ALPHADESK_WEB_SESSION_SECRET: too short (at least 32 characters)")
    attempts = env.get("ALPHADESK_WEB_LOGIN_ATTEMPTS") or "5"
    if not attempts.isdigit() or not 1 <= int(attempts) <= 1000:
        raise WebSettingsError(f"ALPHADESK_WEB_LOGIN_ATTEMPTS={attempts!r}: must be in [1, 1000]")
    return WebConfig(
        host=host,
        port=port,
        tls_cert=cert,
        tls_key=key,
        accounts=accounts,
        session_secret=secret or secrets.token_urlsafe(32),
        backtests_dir=Path(env.get("ALPHADESK_WEB_BACKTESTS") or DEFAULT_BACKTESTS),
        login_attempts=int(attempts),
        login_window_s=_positive("ALPHADESK_WEB_LOGIN_WINDOW_S",
                                 env.get("ALPHADESK_WEB_LOGIN_WINDOW_S"), 300.0),
        poll_s=_positive("ALPHADESK_WEB_POLL_S", env.get("ALPHADESK_WEB_POLL_S"), 2.0),
    )
