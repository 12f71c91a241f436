"""``alphadesk health``: every part of the desk in one look, for the seed's "check service health"
step and for a monitor to run: the ledger database (reachable, schema at head), PgBouncer (the
ledger's path goes through it), Redis, the listener (its health snapshot, fresh and healthy), the
fill spool and dead letters, and each registered bot's heartbeat (``bot:{id}:heartbeat`` in Redis,
else ``trading.bots.last_heartbeat``).

One line per check: ``ok``, ``warn`` (worth a look, not a failure: dead letters, a bot REDUCING, a
ledger reached without PgBouncer), ``FAIL`` or ``skip`` (not configured here). Exit status 0 when
nothing failed, 1 when something did, 2 on bad input; ``--json`` prints the same as one object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from alphadesk.app.commands import checks
from alphadesk.app.settings import Settings, SettingsError

Status = Literal["ok", "warn", "fail", "skip"]
DEFAULT_LISTENER_HEALTH = Path("listener-health.json")
#: The listener rewrites its snapshot every second; older than this and it has stopped.
LISTENER_STALE_S = 30.0
SHOWN = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "skip"}
PARTS = ("database", "redis", "listener", "bots")


def _parts(raw: str) -> frozenset[str]:
    chosen = frozenset(p.strip() for p in raw.split(",") if p.strip())
    unknown = sorted(chosen - set(PARTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{raw!r}: expected some of {', '.join(PARTS)}")
    return chosen


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "health", help="check every service: database, PgBouncer, Redis, listener, spool, bots",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--listener-health-file", type=Path, default=DEFAULT_LISTENER_HEALTH,
                        help="the listener's --health-file (default listener-health.json)")
    parser.add_argument("--namespace", default="", help="Redis key namespace of the desk")
    parser.add_argument("--max-heartbeat-age", type=float, default=60.0, metavar="SECONDS",
                        help="without Redis: a running bot's trading.bots.last_heartbeat must "
                             "be younger than this (default 60)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="how long to wait for each server (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", type=_parts, default=None, metavar="PARTS",
                        help="check only these, comma-separated: " + ", ".join(PARTS)
                             + " (database includes PgBouncer): one service's own health check")
    parser.add_argument("--bot", default=None,
                        help="only this bot, which must be registered and beating: a bot "
                             "service's own health check")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from alphadesk.app import settings as desk_settings

    checks.positive("--max-heartbeat-age", args.max_heartbeat_age)
    checks.positive("--timeout", args.timeout)
    settings = desk_settings.load()
    found = asyncio.run(run_checks(settings, args, datetime.now(UTC)))
    failed = [c for c in found if c.status == "fail"]
    if args.json:
        print(json.dumps({"healthy": not failed, "checks": [asdict(c) for c in found]},
                         indent=2))
    else:
        width = max(len(c.name) for c in found)
        for c in found:
            print(f"{SHOWN[c.status]:<5} {c.name:<{width}}  {c.detail}")
        print(f"health: {len(failed)} problem{'s' if len(failed) != 1 else ''}"
              if failed else "health: ok", file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


async def run_checks(settings: Settings, args: argparse.Namespace, now: datetime) -> list[Check]:
    parts = getattr(args, "only", None) or frozenset(PARTS)
    database, reachable = await _database(settings, args.timeout)
    found = [*database] if "database" in parts else []
    if "redis" in parts:
        found.append(await _redis(settings, args.timeout))
    if "listener" in parts:
        found += _listener(settings, args.listener_health_file, now)
    if "bots" in parts:
        found += await _bots(settings, args, now, reachable)
    return found


# -- the ledger -------------------------------------------------------------------------------


async def _database(settings: Settings, timeout_s: float) -> tuple[list[Check], bool]:
    """The database line, the PgBouncer line, and whether the ledger can be read."""
    from alphadesk.adapters.storage import migrate
    from alphadesk.adapters.storage.probe import ProbeFailed, probe
    from alphadesk.adapters.storage.urls import parse

    url = parse(settings.database_url)
    name = url.redacted
    if url.kind == "sqlite":
        assert url.sqlite_path is not None
        if not url.sqlite_path.is_file():
            return [Check("database", "fail", f"{name}: no such file (run alphadesk db upgrade)"),
                    Check("pgbouncer", "skip", "the ledger is SQLite")], False
        pooler = Check("pgbouncer", "skip", "the ledger is SQLite")
        reached = "SQLite"
    else:
        try:
            found = await probe(url, timeout_s)
        except ProbeFailed as exc:
            return [Check("database", "fail", f"{name}: cannot connect: {exc}"),
                    Check("pgbouncer", "skip", "not reached (see database)")], False
        reached = f"PostgreSQL {found.server_version}"
        if found.pooled:
            pooler = Check("pgbouncer", "ok", f"DATABASE_URL goes through a pooler (port "
                                              f"{found.url_port} -> server port "
                                              f"{found.server_port})")
        else:
            pooler = Check("pgbouncer", "warn", "DATABASE_URL reaches PostgreSQL directly, not "
                                                "through PgBouncer")
    try:
        at = await asyncio.to_thread(migrate.current, settings.database_url)
    except Exception as exc:  # a schema that cannot be read is a failed check, not a crash
        return [Check("database", "fail", f"{name}: {reached}; cannot read the schema "
                                          f"version: {type(exc).__name__}"), pooler], False
    head = migrate.head()
    if at != ((head,) if head else ()):
        shown = ", ".join(at) or "not migrated"
        return [Check("database", "fail", f"{name}: {reached}; schema at {shown}, head is "
                                          f"{head} (run alphadesk db upgrade)"), pooler], bool(at)
    return [Check("database", "ok", f"{name}: {reached}, schema at head ({head})"), pooler], True


# -- Redis ------------------------------------------------------------------------------------


async def _redis(settings: Settings, timeout_s: float) -> Check:
    if not settings.redis_url:
        return Check("redis", "skip", "REDIS_URL unset: state and bus are in-process")
    try:
        await checks.redis_async(settings, timeout_s)
    except SettingsError as exc:
        return Check("redis", "fail", str(exc))
    return Check("redis", "ok", f"{_redis_name(settings.redis_url)}: PONG")


def _redis_name(url: str) -> str:
    from urllib.parse import urlsplit

    password = urlsplit(url).password
    return url.replace(password, "***") if password else url


# -- the listener, its spool and dead letters ---------------------------------------------------


def _listener(settings: Settings, path: Path, now: datetime) -> list[Check]:
    expected = any(b.has_credentials for b in settings.bots)
    try:
        report = json.loads(path.read_text())
        at = datetime.fromisoformat(report["at"])
    except FileNotFoundError:
        if not expected:
            return [Check("listener", "skip", "no bot has API keys: no listener expected")]
        return [Check("listener", "fail", f"{path}: no health snapshot (is the listener "
                                          "running with this --health-file?)")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [Check("listener", "fail", f"{path}: unreadable snapshot: {exc}")]
    age = (now - at).total_seconds()
    accounts = report.get("accounts") or []
    names = ", ".join(str(a.get("account")) for a in accounts) or "no account"
    found: list[Check] = []
    if age > LISTENER_STALE_S:
        found.append(Check("listener", "fail", f"{path}: snapshot is {age:.0f} s old (the "
                                               "listener has stopped or hangs)"))
    elif not report.get("healthy"):
        problems = "; ".join(str(p) for p in report.get("problems") or []) or "unhealthy"
        found.append(Check("listener", "fail", f"{names}: {problems}"))
    else:
        found.append(Check("listener", "ok", f"{names}: connected, snapshot {age:.0f} s old"))
    depth = max((int(a.get("spool_depth") or 0) for a in accounts), default=0)
    found.append(Check("spool", "fail" if depth else "ok",
                       f"{depth} fills waiting for the database" if depth
                       else "empty (every fill is in the ledger)"))
    dead = int(report.get("dead_letters") or 0)
    found.append(Check("dead letters", "warn" if dead else "ok",
                       f"{dead} rows set aside (see dead_letters.jsonl beside the spool)" if dead
                       else "none"))
    return found


# -- the bots -----------------------------------------------------------------------------------


async def _bots(settings: Settings, args: argparse.Namespace, now: datetime,
                ledger_readable: bool) -> list[Check]:
    from alphadesk.adapters.storage.bots import open_bots

    only = getattr(args, "bot", None)
    chosen = [settings.bot(only)] if only else list(settings.bots)
    absent: Status = "fail" if only else "skip"  # a bot service's check: it must be running
    if not ledger_readable:
        return [Check("bots", absent, "the ledger cannot be read")]
    registry = await open_bots(settings.database_url)
    try:
        records = [(b.bot_id, await registry.get(b.bot_id)) for b in chosen]
    finally:
        await registry.close()
    beats = await _redis_beats(settings, args.namespace, [bot_id for bot_id, _ in records])
    found = []
    for bot_id, record in records:
        name = f"bot {bot_id}"
        if record is None:
            found.append(Check(name, absent, "not registered in trading.bots"))
            continue
        if record.status == "stopped":
            found.append(Check(name, absent, f"stopped ({record.deployment_mode})"))
            continue
        equity = f", equity {record.current_equity:,.2f}" if record.current_equity else ""
        if beats is not None:
            beat = beats.get(bot_id)
            if beat is None:
                found.append(Check(name, "fail", f"{record.status} in trading.bots but no "
                                                 f"heartbeat in Redis (bot:{bot_id}:heartbeat "
                                                 "expired: the bot is not running)"))
                continue
            age = (now - beat).total_seconds()
            where = "Redis"
        else:
            if record.last_heartbeat is None:
                found.append(Check(name, "fail", f"{record.status} but never beat"))
                continue
            age = (now - record.last_heartbeat).total_seconds()
            where = "trading.bots"
            if age > args.max_heartbeat_age:
                found.append(Check(name, "fail", f"{record.status}, last heartbeat {age:.0f} s "
                                                 "ago: the bot is not running"))
                continue
        status: Status = "ok" if record.status == "active" else "warn"
        found.append(Check(name, status, f"{record.status} ({record.deployment_mode}), heartbeat "
                                         f"{max(age, 0):.0f} s ago in {where}{equity}"))
    return found


async def _redis_beats(settings: Settings, namespace: str,
                       bot_ids: Sequence[str]) -> dict[str, datetime] | None:
    """Each bot's last beat in Redis (absent: expired), or None without a reachable Redis."""
    if not settings.redis_url:
        return None
    from alphadesk.adapters.redis.state import RedisState

    state = RedisState.from_url(settings.redis_url, namespace=namespace)
    try:
        out = {}
        for bot_id in bot_ids:
            beat = await state.bots.last_heartbeat(bot_id)
            if beat is not None:
                out[bot_id] = beat
        return out
    except Exception:  # Redis down is its own failed line already
        return None
    finally:
        await state.aclose()
