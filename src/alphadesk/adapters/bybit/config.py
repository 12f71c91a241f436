"""Per-account client configuration: which key, which Bybit environment, which clock tolerance.

Each bot trades with its own key (a sub-account), so configuration is per account and carries a
label (``account``) that every fill and report is stamped with. ``base_url`` points REST *and* the
WebSockets at a local simulator; it is the only way tests reach a "Bybit".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from alphadesk.adapters.bybit.secret import Secret
from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
MASK_MIN_LEN = 12


class Environment(StrEnum):
    LIVE = "live"
    DEMO = "demo"
    TESTNET = "testnet"


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidField(name, env.get(name), "must be true/false (1/0, yes/no, on/off)")


def environment_from_env(env: Mapping[str, str]) -> Environment:
    """``BYBIT_DEMO`` wins over ``BYBIT_TESTNET``, as in the seed; neither means live."""
    if _flag(env, "BYBIT_DEMO"):
        return Environment.DEMO
    if _flag(env, "BYBIT_TESTNET"):
        return Environment.TESTNET
    return Environment.LIVE


def mask_key(api_key: str) -> str:
    """At most the first 4 and last 2 characters: enough to tell keys apart in a log, too little
    to use. A short key shows nothing, since 6 of its characters would be most of it."""
    if not api_key:
        return ""
    if len(api_key) < MASK_MIN_LEN:
        return "***"
    return f"{api_key[:4]}...{api_key[-2:]}"


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One Bybit account (key). The secret stays wrapped; the repr shows it masked."""

    account: str
    api_key: str = field(repr=False)
    secret: Secret = field(repr=False)
    environment: Environment = Environment.LIVE
    recv_window_ms: int = 5000
    base_url: str | None = None
    timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        checks.text("bybit.account", self.account, max_len=64)
        if not isinstance(self.secret, Secret):
            # Never echo the value: it is the secret.
            raise InvalidField("bybit.secret", type(self.secret).__name__, "must be a Secret")
        try:
            checks.text("bybit.api_key", self.api_key, allow_empty=True, max_len=128)
        except InvalidField as exc:
            raise InvalidField("bybit.api_key", mask_key(str(self.api_key)), exc.reason) from None
        if not isinstance(self.environment, Environment):
            object.__setattr__(self, "environment", Environment(self.environment))
        if not 1 <= self.recv_window_ms <= 60_000:
            raise InvalidField("bybit.recv_window_ms", self.recv_window_ms, "must be 1..60000")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise InvalidField(
                "bybit.base_url", self.base_url, "must start with http:// or https://"
            )

    def __repr__(self) -> str:
        return (
            f"AccountConfig(account={self.account!r}, api_key={mask_key(self.api_key)!r}, "
            f"secret={self.secret!r}, environment={self.environment.value!r}, "
            f"recv_window_ms={self.recv_window_ms}, base_url={self.base_url!r}, "
            f"timeout_ms={self.timeout_ms})"
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key) and bool(self.secret)

    @classmethod
    def public(cls, account: str = "public", **kwargs: object) -> AccountConfig:
        """A key-less config for market data only."""
        return cls(account=account, api_key="", secret=Secret(""), **kwargs)  # type: ignore[arg-type]
