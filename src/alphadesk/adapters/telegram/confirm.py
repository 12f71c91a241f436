"""Pending confirmations of dangerous commands (``/flatten BOT``): one-shot and expiring.

The inline button carries only a random token; what it confirms stays here, so a forged or
replayed callback can do nothing, an old button does nothing once its time is up, and only the
admin who asked can confirm. Pure: the clock is injected.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Pending:
    action: str
    bot: str
    actor: int
    expires_at: float


class Refusal(Enum):
    UNKNOWN = "unknown or already used"
    EXPIRED = "expired"
    NOT_YOURS = "asked by another admin"


@dataclass(slots=True)
class Confirmations:
    clock: Callable[[], float]
    ttl_s: float = 60.0
    _pending: dict[str, Pending] = field(default_factory=dict)

    def ask(self, action: str, bot: str, actor: int) -> str:
        """Remember the request; returns the token the button carries."""
        self._forget_expired()
        token = secrets.token_urlsafe(12)
        self._pending[token] = Pending(action, bot, actor, self.clock() + self.ttl_s)
        return token

    def take(self, token: str, actor: int) -> Pending | Refusal:
        """The confirmed request (and it is gone), or why not. A refused token other than
        NOT_YOURS is gone too."""
        pending = self._pending.get(token)
        if pending is None:
            return Refusal.UNKNOWN
        if pending.actor != actor:
            return Refusal.NOT_YOURS
        del self._pending[token]
        if self.clock() >= pending.expires_at:
            return Refusal.EXPIRED
        return pending

    def cancel(self, token: str, actor: int) -> Pending | None:
        pending = self._pending.get(token)
        if pending is None or pending.actor != actor:
            return None
        return self._pending.pop(token)

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, p in self._pending.items() if now >= p.expires_at]:
            del self._pending[token]
