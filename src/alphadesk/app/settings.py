"""Desk configuration from the environment (the seed's variable names) and an optional TOML file.

Every value is validated when the desk starts, with an error naming the variable and the value
(never the value of a secret), so a typo such as ``BYBIT_DEMO=ture`` stops the desk instead of
silently trading on mainnet, and a key without its secret is refused here rather than failing
later with an authentication error that names nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from alphadesk.adapters.bybit.config import check_base_url, environment_from_env, parse_flag
from alphadesk.adapters.storage.urls import parse as parse_database_url
from alphadesk.app.desk_config import BotExtras, ConfigError, RunSettings, bot_extras, run_settings
from alphadesk.domain.errors import InvalidField
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

#: Telegram's Bot API; ``C2_TELEGRAM_API_URL`` points elsewhere (a local Bot API server, a test).
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
#: A bot token as BotFather issues it: the bot's numeric id, a colon, a base64url secret.
_TELEGRAM_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REDIS_SCHEMES = ("redis", "rediss", "unix")
MAX_KEY_LEN = 128


class SettingsError(ValueError):
    """A configuration value that cannot be used; names the variable."""


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    """true/false, 1/0, yes/no (any case); unset or empty is ``default``; anything else stops."""
    try:
        return parse_flag(name, raw, default)
    except InvalidField as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class BotSettings:
    bot_id: str
    strategy: str
    account: str
    api_key: Secret
    api_secret: Secret
    params: Mapping[str, Any] = field(default_factory=dict)
    extras: BotExtras = field(default_factory=BotExtras)
    """From the bot's TOML table: its mode, whether it is enabled, its risk limits."""
    configured: bool = False
    """A ``[bots.<name>]`` table names it: ``alphadesk run`` starts it."""

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
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    log_level: str = "INFO"
    log_format: str = "auto"
    log_file: Path | None = None
    log_file_max_mb: int = 50
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    run: RunSettings = field(default_factory=RunSettings)
    config_path: str | None = None

    def bot(self, bot_id: str) -> BotSettings:
        for bot in self.bots:
            if bot.bot_id == bot_id or bot.strategy == bot_id:
                return bot
        known = ", ".join(b.bot_id for b in self.bots)
        raise SettingsError(f"bot {bot_id!r} is not configured (known: {known})")

    def secrets(self) -> tuple[Secret, ...]:
        """Every credential in the configuration: what the log filter must never let through."""
        found = [self.telegram_token]
        for bot in self.bots:
            found += [bot.api_key, bot.api_secret]
        for url in (self.database_url, self.redis_url):
            password = _password(url)
            if password:
                found.append(Secret(password))
        return tuple(s for s in found if s)


def bybit_environment(env: Mapping[str, str]) -> Environment:
    """``BYBIT_DEMO`` or ``BYBIT_TESTNET`` (both at once is refused); neither means live."""
    try:
        environment = environment_from_env(env)
    except InvalidField as exc:
        raise SettingsError(str(exc)) from None
    value: Environment = environment.value
    return value


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _admin_ids(raw: str | None) -> tuple[int, ...]:
    if not raw:
        return ()
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) == 0:
            message = f"C2_TELEGRAM_ADMIN_IDS: {part!r} is not a numeric user id"
            raise SettingsError(message)
        ids.append(int(part))
    return tuple(ids)


def _telegram_token(env: Mapping[str, str]) -> Secret:
    """Checked for shape only when set (``alphadesk telegram`` requires it): a pasted token with a
    newline or a missing half is named here, by variable only, never echoed."""
    raw = env.get("C2_TELEGRAM_BOT_TOKEN", "")
    if raw and not _TELEGRAM_TOKEN.fullmatch(raw):
        raise SettingsError(
            "C2_TELEGRAM_BOT_TOKEN: not a bot token (expected <bot id>:<secret> as BotFather "
            "issues it; the value is not shown)"
        )
    return Secret(raw)


def _telegram_api_url(env: Mapping[str, str]) -> str:
    raw = env.get("C2_TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API_URL
    try:
        return check_base_url("C2_TELEGRAM_API_URL", raw).rstrip("/")
    except InvalidField as exc:
        raise SettingsError(str(exc)) from None


def telegram_ready(settings: Settings) -> None:
    """What ``alphadesk telegram`` needs beyond the shapes :func:`load` checks: a token and at
    least one admin, since a bot that answers nobody (or anybody) is a mistake."""
    if not settings.telegram_token:
        raise SettingsError("C2_TELEGRAM_BOT_TOKEN: not set (the bot's token from BotFather)")
    if not settings.telegram_admin_ids:
        raise SettingsError(
            "C2_TELEGRAM_ADMIN_IDS: not set (comma-separated Telegram user ids allowed to "
            "use the bot)"
        )


def _credential(env: Mapping[str, str], name: str) -> Secret:
    """A key or secret variable; refused (by name only, never by value) when it holds
    whitespace or unprintable characters, the usual trace of a copy-paste or a file's newline."""
    raw = env.get(name, "")
    if raw and (not raw.isprintable() or any(c.isspace() for c in raw)):
        raise SettingsError(f"{name}: contains whitespace or unprintable characters")
    if len(raw) > MAX_KEY_LEN:
        raise SettingsError(f"{name}: longer than {MAX_KEY_LEN} characters")
    return Secret(raw)


def _bot_keys(env: Mapping[str, str], prefix: str) -> tuple[Secret, Secret]:
    key_var, secret_var = f"{prefix}_BYBIT_API_KEY", f"{prefix}_BYBIT_API_SECRET"
    key, secret = _credential(env, key_var), _credential(env, secret_var)
    if bool(key) != bool(secret):
        have, missing = (key_var, secret_var) if key else (secret_var, key_var)
        raise SettingsError(f"{have} is set but {missing} is not: set both or neither")
    return key, secret


def _database_url(env: Mapping[str, str]) -> str:
    raw = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parse_database_url(raw)
    except InvalidField as exc:
        raise SettingsError(f"DATABASE_URL={exc.value!r}: {exc.reason}") from None
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL") or None
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in REDIS_SCHEMES and bool(parts.hostname or parts.path)
    except ValueError:
        ok = False
    if not ok:
        password = _password(raw)
        shown = raw.replace(password, "***") if password else raw
        raise SettingsError(f"REDIS_URL={shown!r}: must be redis://host:port[/db] or rediss://…")
    return raw


def _base_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("BYBIT_BASE_URL") or None
    if raw is None:
        return None
    try:
        return check_base_url("BYBIT_BASE_URL", raw)
    except InvalidField as exc:
        raise SettingsError(str(exc)) from None


def _log_level(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_LEVEL") or "INFO"
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL={raw!r}: expected DEBUG, INFO, WARNING or ERROR")
    return level


LOG_FORMATS = ("auto", "json", "text")


def _log_format(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_FORMAT") or "auto"
    if raw.strip().lower() not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT={raw!r}: expected auto, json or text")
    return raw.strip().lower()


def _int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = env.get(name) or None
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r}: must be a whole number from {low} to {high}")
    return value


def _log_file(env: Mapping[str, str]) -> Path | None:
    """A file that can be written: not a folder, under a folder (made when missing)."""
    raw = env.get("LOG_FILE") or None
    if raw is None:
        return None
    path = Path(raw)
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if path.is_dir() or not probe.is_dir():
        what = "is a folder" if path.is_dir() else f"{str(probe)!r} is not a folder"
        raise SettingsError(f"LOG_FILE={raw!r}: {what}")
    return path


def _metrics_host(env: Mapping[str, str]) -> str:
    """Loopback unless asked: the metrics page names bots and their equity."""
    raw = (env.get("ALPHADESK_METRICS_HOST") or "127.0.0.1").strip()
    if not raw or any(c.isspace() or c in "/@" for c in raw):
        raise SettingsError(f"ALPHADESK_METRICS_HOST={raw!r}: expected a host name or address")
    return raw


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"ALPHADESK_CONFIG={str(path)!r}: file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"ALPHADESK_CONFIG={str(path)!r}: {exc}") from None


def _bot_params(config: Mapping[str, Any], path: str
                ) -> tuple[dict[str, dict[str, Any]], dict[str, BotExtras]]:
    """``[bots.<strategy or bot id>]`` tables, each checked against its strategy's parameters
    now, so a misspelt key stops start-up rather than a bot after its migrations ran; the bot's
    own keys (``mode``, ``enabled``, ``[bots.<name>.risk]``) are read apart from them."""
    from alphadesk.strategies import build  # the strategies load numpy: only when configured

    where = f"ALPHADESK_CONFIG={path!r}"
    unknown = sorted(set(config) - {"bots", "run"})
    if unknown:
        raise SettingsError(f"{where}: unknown table or key {unknown[0]!r} (known: bots, run)")
    tables = config.get("bots", {})
    if not isinstance(tables, dict):
        raise SettingsError(f"{where}: 'bots' must be a table of [bots.<name>] tables")
    names = {bot_id: strategy for bot_id, strategy, _ in DEFAULT_BOTS}
    names.update({strategy: strategy for _, strategy, _ in DEFAULT_BOTS})
    out: dict[str, dict[str, Any]] = {}
    extras: dict[str, BotExtras] = {}
    for name, params in tables.items():
        strategy = names.get(name)
        if strategy is None:
            raise SettingsError(
                f"{where}: [bots.{name}] names no bot (known: {', '.join(sorted(names))})"
            )
        if not isinstance(params, dict):
            raise SettingsError(f"{where}: [bots.{name}] must be a table of parameters")
        params = dict(params)
        try:
            extras[strategy] = bot_extras(name, params)
        except ConfigError as exc:
            raise SettingsError(f"{where}: {exc}") from None
        try:
            build(strategy, **params)
        except ValueError as exc:
            raise SettingsError(f"{where}: [bots.{name}] {exc}") from None
        out.setdefault(strategy, {}).update(params)
    return out, extras


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    bot_params: dict[str, dict[str, Any]] = {}
    extras: dict[str, BotExtras] = {}
    run = RunSettings()
    path = env.get("ALPHADESK_CONFIG") or None
    if path:
        config = _load_toml(Path(path))
        bot_params, extras = _bot_params(config, path)
        try:
            run = run_settings(config.get("run"))
        except ConfigError as exc:
            raise SettingsError(f"ALPHADESK_CONFIG={path!r}: {exc}") from None
    bots = []
    for bot_id, strategy, prefix in DEFAULT_BOTS:
        key, secret = _bot_keys(env, prefix)
        bots.append(BotSettings(
            bot_id=bot_id,
            strategy=strategy,
            account=strategy,
            api_key=key,
            api_secret=secret,
            params=dict(bot_params.get(strategy, {})),
            extras=extras.get(strategy, BotExtras()),
            configured=strategy in extras,
        ))
    return Settings(
        database_url=_database_url(env),
        redis_url=_redis_url(env),
        bybit_environment=bybit_environment(env),
        bybit_base_url=_base_url(env),
        bots=tuple(bots),
        telegram_token=_telegram_token(env),
        telegram_admin_ids=_admin_ids(env.get("C2_TELEGRAM_ADMIN_IDS")),
        telegram_api_url=_telegram_api_url(env),
        log_level=_log_level(env),
        log_format=_log_format(env),
        log_file=_log_file(env),
        log_file_max_mb=_int(env, "LOG_FILE_MAX_MB", 1, 10_000) or 50,
        metrics_port=_int(env, "ALPHADESK_METRICS_PORT", 0, 65_535),
        metrics_host=_metrics_host(env),
        run=run,
        config_path=path,
    )
