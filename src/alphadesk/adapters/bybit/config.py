"""Per-account client configuration: which key, which Bybit environment, which clock tolerance.

Each bot trades with its own key (a sub-account), so configuration is per account and carries a
label (``account``) that every fill and report is stamped with. ``base_url`` points REST *and* the
WebSockets at a local simulator; it is the only way tests reach a "Bybit".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from alphadesk.adapters.bybit.secret import Secret
from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField

#: The spellings a boolean variable may take (case-insensitive); anything else is refused, so a
#: typo such as ``BYBIT_TESTNET=ture`` stops start-up instead of meaning "false".
TRUE_WORDS = frozenset({"1", "true", "yes"})
FALSE_WORDS = frozenset({"0", "false", "no"})
MASK_MIN_LEN = 12


class Environment(StrEnum):
    LIVE = "live"
    DEMO = "demo"
    TESTNET = "testnet"


def parse_flag(name: str, raw: str | None, default: bool = False) -> bool:
    """``raw`` as a boolean: true/false, 1/0, yes/no; unset or empty means ``default``."""
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise InvalidField(name, raw, "must be one of true/false, 1/0, yes/no")


def environment_from_env(env: Mapping[str, str]) -> Environment:
    """``BYBIT_DEMO`` or ``BYBIT_TESTNET``; neither means live. Both at once is refused: the seed
    let demo win silently, so one stale line in an env file could change where orders go."""
    demo = parse_flag("BYBIT_DEMO", env.get("BYBIT_DEMO"))
    testnet = parse_flag("BYBIT_TESTNET", env.get("BYBIT_TESTNET"))
    if demo and testnet:
        raise InvalidField(
            "BYBIT_DEMO/BYBIT_TESTNET",
            f"{env.get('BYBIT_DEMO')}/{env.get('BYBIT_TESTNET')}",
            "contradict each other; set at most one of them to true",
        )
    if demo:
        return Environment.DEMO
    if testnet:
        return Environment.TESTNET
    return Environment.LIVE


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): the local simulator's hosts."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(name: str, url: str) -> str:
    """A Bybit base URL: https, or http only to a loopback host (the local simulator), so keys
    and signed orders never cross a network in clear text."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidField(name, url, "is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidField(name, url, "must be https://host[:port] (or http:// to a loopback host)")
    if parts.scheme == "http" and not is_loopback(host):
        raise InvalidField(
            name, url, "must be https:// (plain http:// is allowed only to a loopback host, "
            "the local simulator)"
        )
    return url


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
    ccxt_pacing: bool = True
    """ccxt's own request bucket (one per key, for every endpoint). Off, the client is paced
    only by the venue's limit headers and its 10006 back-off (``RateLimitGate``): what ``sync``
    does, and the demo against its local simulator, whose clock runs far faster than Bybit's."""

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
        if self.base_url is not None:
            check_base_url("bybit.base_url", self.base_url)

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
