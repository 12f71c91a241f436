"""The parts of ``alphadesk.toml`` that are not strategy parameters: a bot's ``mode`` and its
``[bots.<name>.risk]`` limits, and the ``[run]`` table of ``alphadesk run``.

Read by :mod:`alphadesk.app.settings` (which owns the file) so every command sees one checked
configuration. Each error names the key by its dotted path and says what is wrong with it
(``bots.shortseller.mode: 'livee' is not one of paper, demo, testnet, live``), because a desk
that starts half-configured is worse than one that refuses to start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.engine.risk import RiskLimits
from alphadesk.engine.trading_state import KillSwitchLimits

MODES = ("paper", "demo", "testnet", "live")
#: Keys of a ``[bots.<name>]`` table that configure the bot rather than its strategy.
BOT_KEYS = ("mode", "enabled", "risk")
DECIMAL_LIMITS = ("max_position_notional", "max_total_notional", "max_leverage")
INT_LIMITS = ("max_open_positions", "entry_cooldown_ms")
KILL_LIMITS = ("reduce_at", "halt_at")
RISK_KEYS = DECIMAL_LIMITS + INT_LIMITS + KILL_LIMITS
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """A key of the configuration file that cannot be used; the message starts with its path."""


@dataclass(frozen=True, slots=True)
class BotExtras:
    """What a ``[bots.<name>]`` table says about the bot itself."""

    mode: str | None = None
    enabled: bool = True
    risk: RiskLimits | None = None
    kill_switch: KillSwitchLimits | None = None


@dataclass(frozen=True, slots=True)
class RunSettings:
    """``[run]``: how ``alphadesk run`` runs the desk (every key optional)."""

    sync_every_s: float | None = 600.0
    """Scheduled sync; ``sync_every = "off"`` turns it off."""
    listener_symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    state_dir: Path = Path("state")
    heartbeat_s: float = 5.0
    telegram: bool = True
    """Start the Telegram command bot when its token is set and the command exists."""
    web: bool = False
    web_port: int = 8765


def duration(key: str, raw: object) -> float:
    """``"10m"`` → 600.0; anything else is refused naming ``key``."""
    match = _DURATION.match(raw.strip()) if isinstance(raw, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(f"{key}: {raw!r} is not a duration like 30s, 10m, 1h or 1d")
    return float(int(match.group(1)) * _UNIT_S[match.group(2)])


def bot_extras(name: str, table: dict[str, Any]) -> BotExtras:
    """Pops the bot's own keys out of ``table`` (what stays are strategy parameters)."""
    where = f"bots.{name}"
    mode = table.pop("mode", None)
    if mode is not None and mode not in MODES:
        raise ConfigError(f"{where}.mode: {mode!r} is not one of {', '.join(MODES)}")
    enabled = table.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled: {enabled!r} is not true or false")
    risk_table = table.pop("risk", None)
    if risk_table is None:
        return BotExtras(mode=mode, enabled=enabled)
    if not isinstance(risk_table, dict):
        raise ConfigError(f"{where}.risk: must be a table ([{where}.risk])")
    unknown = sorted(set(risk_table) - set(RISK_KEYS))
    if unknown:
        raise ConfigError(f"{where}.risk.{unknown[0]}: unknown limit "
                          f"(known: {', '.join(RISK_KEYS)})")
    risk: dict[str, Any] = {}
    kill: dict[str, Any] = {}
    for key, value in risk_table.items():
        path = f"{where}.risk.{key}"
        if key in INT_LIMITS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{path}: {value!r} is not a whole number")
            risk[key] = value
        else:
            number = _decimal(path, value)
            (kill if key in KILL_LIMITS else risk)[key] = number
    try:
        limits = RiskLimits(**risk) if risk else None
        switch = KillSwitchLimits(**kill) if kill else None
    except InvalidField as exc:
        field = exc.field.removeprefix("risk.").removeprefix("kill_switch.")
        raise ConfigError(f"{where}.risk.{field}: {risk_table.get(field, exc.value)!r} "
                          f"{exc.reason}") from None
    return BotExtras(mode=mode, enabled=enabled, risk=limits, kill_switch=switch)


def _decimal(path: str, value: object) -> Decimal:
    """Exact: a float is read through its shortest text (``0.1`` is 0.1, not its binary value)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{path}: {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{path}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ConfigError(f"{path}: {value!r} is not a finite number")
    return number


RUN_KEYS = ("sync_every", "listener_symbols", "state_dir", "heartbeat", "telegram", "web",
            "web_port")


def run_settings(table: object) -> RunSettings:
    if table is None:
        return RunSettings()
    if not isinstance(table, Mapping):
        raise ConfigError("run: must be a table ([run])")
    unknown = sorted(set(table) - set(RUN_KEYS))
    if unknown:
        raise ConfigError(f"run.{unknown[0]}: unknown key (known: {', '.join(RUN_KEYS)})")
    out = RunSettings()
    every = table.get("sync_every")
    sync_every_s = out.sync_every_s
    if every is not None:
        sync_every_s = None if every == "off" else duration("run.sync_every", every)
    symbols = table.get("listener_symbols", list(out.listener_symbols))
    if not isinstance(symbols, list) or not all(
        isinstance(s, str) and s.isalnum() and s.isupper() for s in symbols
    ):
        raise ConfigError(f"run.listener_symbols: {symbols!r} is not a list of symbols "
                          "like [\"BTCUSDT\"]")
    state_dir = table.get("state_dir", str(out.state_dir))
    if not isinstance(state_dir, str) or not state_dir:
        raise ConfigError(f"run.state_dir: {state_dir!r} is not a folder name")
    heartbeat = table.get("heartbeat", "5s")
    for key in ("telegram", "web"):
        if not isinstance(table.get(key, False), bool):
            raise ConfigError(f"run.{key}: {table[key]!r} is not true or false")
    port = table.get("web_port", out.web_port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65_535:
        raise ConfigError(f"run.web_port: {port!r} is not a port from 1 to 65535")
    return RunSettings(
        sync_every_s=sync_every_s,
        listener_symbols=tuple(symbols),
        state_dir=Path(state_dir),
        heartbeat_s=duration("run.heartbeat", heartbeat),
        telegram=bool(table.get("telegram", out.telegram)),
        web=bool(table.get("web", out.web)),
        web_port=port,
    )
