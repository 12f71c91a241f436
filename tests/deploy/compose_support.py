"""Reading deploy/compose.yaml the way Compose does (YAML merge keys, ``${VAR}``,
``${VAR:-default}`` and ``${VAR:?error}`` interpolation), and translating one service into a
local process: its own command, environment and health check, with the container's host names,
volumes and listening addresses mapped onto this machine's test servers and folders."""

from __future__ import annotations

import re
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable substitution over every string of the file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        have = env.get(name)
        empty = have is None or (have == "" and op is not None and op.startswith(":"))
        if op in (":-", "-") and empty:
            return arg
        if op in (":?", "?") and empty:
            raise KeyError(f"{name}: {arg}")
        return have or ""

    return _VAR.sub(one, value)


def load(env: Mapping[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE.read_text())
    services = {k: v for k, v in raw["services"].items()}
    return {**raw, "services": interpolate(services, env)}


def is_desk(service: Mapping[str, Any]) -> bool:
    """A service of the alphadesk image (not one of the servers')."""
    return str(service.get("image", "")).startswith("alphadesk")


@dataclass(frozen=True, slots=True)
class Local:
    """Where the test's servers and folders stand in for the containers'."""

    bouncer_dsn: str
    direct_dsn: str
    redis_url: str
    namespace: str
    volumes: dict[str, Path]
    """Container path -> local path (named volumes and bind-mounted files)."""
    bin_dir: Path


def local_path(text: str, local: Local) -> str:
    for inside in sorted(local.volumes, key=len, reverse=True):
        text = text.replace(inside, str(local.volumes[inside]))
    return text


def environment(service: Mapping[str, Any], local: Local) -> dict[str, str]:
    """The service's own environment, host names and paths translated; the translation refuses a
    ledger URL that bypasses PgBouncer (only the backup goes straight to PostgreSQL)."""
    env: dict[str, str] = {}
    for name, value in (service.get("environment") or {}).items():
        value = "" if value is None else str(value)
        if name == "DATABASE_URL":
            parts = urlsplit(value)
            assert (parts.hostname, parts.port) == ("pgbouncer", 6432), f"{name}={value}"
            value = local.bouncer_dsn
        elif name == "BACKUP_DATABASE_URL":
            parts = urlsplit(value)
            assert (parts.hostname, parts.port) == ("postgres", 5432), f"{name}={value}"
            value = local.direct_dsn
        elif name == "REDIS_URL":
            assert urlsplit(value).hostname == "redis", f"{name}={value}"
            value = local.redis_url
        elif name == "ALPHADESK_METRICS_HOST":
            value = "127.0.0.1"
        elif name == "ALPHADESK_METRICS_PORT":
            value = "0"  # every service on one host: each its own free port
        else:
            value = local_path(value, local)
        env[name] = value
    env["PATH"] = f"{local.bin_dir}:/usr/bin:/bin"
    env["HOME"] = str(local.volumes["/var/lib/alphadesk"])
    return env


def _takes_namespace(argv: list[str]) -> bool:
    from alphadesk.app.cli import build_parser

    if not argv or argv[0] != "alphadesk":
        return False
    try:
        args = build_parser().parse_args(argv[1:])
    except SystemExit:
        return False
    return hasattr(args, "namespace")


def command(argv: list[str], local: Local) -> list[str]:
    """The command as the container runs it, paths translated, plus this test's Redis key
    namespace where the command takes one (containers share a Redis of their own)."""
    out = [local_path(str(a), local) for a in argv]
    for i, arg in enumerate(out[:-1]):  # one host for every container: a free port each, loopback
        if arg == "--port":
            out[i + 1] = str(_free_port())
        elif arg == "--host":
            out[i + 1] = "127.0.0.1"
    if _takes_namespace(out):
        out += ["--namespace", local.namespace]
    if out and out[0] == "alphadesk":
        out[0] = str(local.bin_dir / "alphadesk")
    return out


def health_command(service: Mapping[str, Any], local: Local) -> list[str]:
    test = service["healthcheck"]["test"]
    if test[0] == "CMD-SHELL":
        return [shutil.which("sh") or "/bin/sh", "-c", local_path(test[1], local)]
    assert test[0] == "CMD", test
    return command([str(a) for a in test[1:]], local)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_bin() -> Path:
    return Path(sys.executable).parent
