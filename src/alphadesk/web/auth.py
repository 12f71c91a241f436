"""Who is asking: a signed session cookie (browsers) or a bearer token (scripts), and their role.

Browsers log in with a password and get a session (Starlette's SessionMiddleware: an
itsdangerous-signed, HttpOnly, SameSite=strict cookie, Secure). The session also carries a CSRF
token that every command must echo in ``X-CSRF-Token``: a cookie is sent by the browser on its
own, a header only by our own script. Bearer tokens are not sent automatically, so token calls
need no CSRF token. Viewers read; only admins command.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from alphadesk.web.config import Account, Role, WebConfig
from alphadesk.web.passwords import token_digest, verify_password

CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    via: str  # "session" | "token"

    @property
    def actor(self) -> str:
        """How the audit names this caller."""
        return f"web:{self.name}"


class Authenticator:
    def __init__(self, config: WebConfig) -> None:
        self._accounts = {a.name: a for a in config.accounts}
        # A fixed hash to check against when the user is unknown, so timing does not tell
        # which user names exist.
        self._decoy = next((a.password_hash for a in config.accounts if a.password_hash), None)

    def check_password(self, name: str, password: str) -> Account | None:
        account = self._accounts.get(name)
        stored = account.password_hash if account else None
        if stored is None:
            if self._decoy:
                verify_password(password, self._decoy)
            return None
        return account if verify_password(password, stored) else None

    def from_request(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            digest = token_digest(header[7:].strip())
            for account in self._accounts.values():
                if account.token_sha256 and hmac.compare_digest(account.token_sha256, digest):
                    return Principal(account.name, account.role, "token")
            return None
        session = request.session
        name = session.get("user")
        found = self._accounts.get(name) if isinstance(name, str) else None
        if found is None or found.password_hash is None or session.get("role") != found.role:
            return None
        return Principal(found.name, found.role, "session")


def start_session(request: Request, account: Account) -> None:
    """A fresh session on every login (no fixation: nothing of the old one survives)."""
    request.session.clear()
    request.session.update(user=account.name, role=account.role, csrf=secrets.token_urlsafe(32))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    return token if isinstance(token, str) else ""


def require_user(request: Request) -> Principal:
    principal: Principal | None = request.app.state.auth.from_request(request)
    if principal is None:
        raise HTTPException(401, "log in first (session cookie or Authorization: Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return principal


def require_admin(request: Request) -> Principal:
    principal = require_user(request)
    if principal.role != "admin":
        raise HTTPException(403, f"{principal.name} is read-only: commands need an admin")
    if principal.via == "session":
        sent = request.headers.get(CSRF_HEADER, "")
        expected = csrf_token(request)
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            raise HTTPException(403, "missing or wrong X-CSRF-Token (reload the page)")
    return principal
