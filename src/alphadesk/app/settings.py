"""Desk configuration from the environment (the seed's variable names) and an optional TOML file.

Every value is validated when the desk starts, with an error naming the variable and the value
(never the value of a secret), so a typo such as ``BYBIT_DEMO=ture`` stops the desk instead of
silently trading on mainnet.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from alphadesk.domain.secrets import Secret

Environment = Literal["live", "demo", "testnet"]

#: The embedded default: a SQLite file in the working directory, no server needed.
DEFAULT_DATABASE_URL = "sqlite:///./alphadesk.db"

#: The seed's three bots: bot id, strategy and the prefix of their API-key variables.
DEFAULT_BOTS: tuple[tuple[str, str, str], ...] = (
    ("shortseller_001", "shortseller", "SHORTSELLER"),
    ("lxalgo_001", "lxalgo", "LXALGO"),
    ("momentum_001", "momentum", "MOMENTUM"),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A configuration value that cannot be used; names the variable."""


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r}: expected one of true/false/1/0/yes/no")


@dataclass(frozen=True, slots=True)
class BotSettings:
    bot_id: str
    strategy: str
    account: str
    api_key: Secret
    api_secret: Secret
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key) and bool(self.api_secret)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    bybit_environment: Environment = "demo"
    bybit_base_url: str | None = None
    bots: tuple[BotSettings, ...] = ()
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    telegram_admin_ids: tuple[int, ...] = ()
    log_level: str = "INFO"

    def bot(self, bot_id: str) -> BotSettings:
        for bot in self.bots:
            if bot.bot_id == bot_id or bot.strategy == bot_id:
                return bot
        known = ", ".join(b.bot_id for b in self.bots)
        raise SettingsError(f"bot {bot_id!r} is not configured (known: {known})")


def bybit_environment(env: Mapping[str, str]) -> Environment:
    """Demo wins over testnet, as in the seed; neither set means live."""
    if parse_bool("BYBIT_DEMO", env.get("BYBIT_DEMO"), default=False):
        return "demo"
    if parse_bool("BYBIT_TESTNET", env.get("BYBIT_TESTNET"), default=False):
        return "testnet"
    return "live"


def _admin_ids(raw: str | None) -> tuple[int, ...]:
    if not raw:
        return ()
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.append(int(part))
        except ValueError:
            message = f"C2_TELEGRAM_ADMIN_IDS: {part!r} is not a numeric user id"
            raise SettingsError(message) from None
    return tuple(ids)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"ALPHADESK_CONFIG={str(path)!r}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"ALPHADESK_CONFIG={str(path)!r}: {exc}") from None


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    config: dict[str, Any] = {}
    if env.get("ALPHADESK_CONFIG"):
        config = _load_toml(Path(env["ALPHADESK_CONFIG"]))
    bot_params: dict[str, Any] = config.get("bots", {})
    bots = tuple(
        BotSettings(
            bot_id=bot_id,
            strategy=strategy,
            account=strategy,
            api_key=Secret(env.get(f"{prefix}_BYBIT_API_KEY", "")),
            api_secret=Secret(env.get(f"{prefix}_BYBIT_API_SECRET", "")),
            params=dict(bot_params.get(strategy, {})),
        )
        for bot_id, strategy, prefix in DEFAULT_BOTS
    )
    level = env.get("LOG_LEVEL", "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"LOG_LEVEL={level!r}: expected DEBUG, INFO, WARNING or ERROR")
    return Settings(
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=env.get("REDIS_URL") or None,
        bybit_environment=bybit_environment(env),
        bybit_base_url=env.get("BYBIT_BASE_URL") or None,
        bots=bots,
        telegram_token=Secret(env.get("C2_TELEGRAM_BOT_TOKEN", "")),
        telegram_admin_ids=_admin_ids(env.get("C2_TELEGRAM_ADMIN_IDS")),
        log_level=level,
    )
