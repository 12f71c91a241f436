"""``alphadesk health`` against the real PostgreSQL (through PgBouncer), Redis, a listener health
snapshot written by the listener's own HealthBook, and bots registered in trading.bots with their
Redis heartbeats: exit 0 when every part is up, 1 naming the part that is down."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.app.cli import main
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.health import HealthBook
from harness.postgres import PgDatabase

PASSWORD = "health-pw-0123456789"
KEY, SECRET = "HEALTHKEY0001", "health-secret-0123456789"


def snapshot(path: Path, *, spool: int = 0, dead: int = 0, at: datetime | None = None) -> None:
    """What a running listener writes, made by its own HealthBook."""
    book = HealthBook(["shortseller"], clock=lambda: at or datetime.now(UTC))
    book.connected("shortseller", True)
    book.message("shortseller")
    path.write_text(book.report(spool, {"inserted": 3}, dead_letters=dead).to_json())


async def _register(url: str, bot_id: str, status: str, beat: datetime) -> None:
    bots = await open_bots(url)
    try:
        await bots.register(BotRecord(bot_id, bot_id, "strategy", bot_id.split("_")[0], status,
                                      "demo", Decimal(1000), Decimal("1012.5"), beat))
    finally:
        await bots.close()


async def _health(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = await asyncio.to_thread(main, ["health", "--json", *argv])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["healthy"] is (code == 0)
    return code, {c["name"]: (c["status"], c["detail"]) for c in doc["checks"]}


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, fresh_pg_database: PgDatabase, redis_url: str,
         tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", fresh_pg_database.bouncer_dsn.replace(
        "postgres@", f"postgres:{PASSWORD}@", 1))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SHORTSELLER_BYBIT_API_KEY", KEY)
    monkeypatch.setenv("SHORTSELLER_BYBIT_API_SECRET", SECRET)
    for name in ("LXALGO", "MOMENTUM"):
        monkeypatch.delenv(f"{name}_BYBIT_API_KEY", raising=False)
        monkeypatch.delenv(f"{name}_BYBIT_API_SECRET", raising=False)
    monkeypatch.delenv("ALPHADESK_CONFIG", raising=False)
    return tmp_path / "listener-health.json"


async def test_everything_up_then_each_part_down(
    desk: Path, fresh_pg_database: PgDatabase, redis_url: str, redis_prefix: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = fresh_pg_database.bouncer_dsn
    await asyncio.to_thread(migrate.upgrade, url)
    now = datetime.now(UTC)
    await _register(url, "shortseller_001", "active", now)
    await _register(url, "lxalgo_001", "stopped", now - timedelta(days=1))
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        await state.bots.beat("shortseller_001", now, ttl_s=60)
    finally:
        await state.aclose()
    snapshot(desk)
    argv = ("--listener-health-file", str(desk), "--namespace", redis_prefix)

    code, checks = await _health(capsys, *argv)
    assert code == 0, checks
    assert checks["database"][0] == "ok" and "schema at head" in checks["database"][1]
    assert PASSWORD not in checks["database"][1] and ":***@" in checks["database"][1]
    assert checks["pgbouncer"] == ("ok", "DATABASE_URL goes through a pooler (port 6432 -> "
                                         "server port 5432)")
    assert checks["redis"][0] == "ok"
    assert checks["listener"][0] == "ok" and "shortseller" in checks["listener"][1]
    assert checks["spool"][0] == "ok" and checks["dead letters"][0] == "ok"
    assert checks["bot shortseller_001"][0] == "ok" and "in Redis" in checks[
        "bot shortseller_001"][1]
    assert checks["bot lxalgo_001"][0] == "skip"
    assert checks["bot momentum_001"] == ("skip", "not registered in trading.bots")

    # The bot's Redis heartbeat expired: it is not running.
    client = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        assert await client.client.delete(f"{redis_prefix}bot:shortseller_001:heartbeat") == 1
    finally:
        await client.aclose()
    code, checks = await _health(capsys, *argv)
    assert code == 1 and checks["bot shortseller_001"][0] == "fail"
    assert "heartbeat expired" in checks["bot shortseller_001"][1]

    # Redis down: its own failure; the bot's heartbeat is then read from trading.bots.
    monkeypatch.setenv("REDIS_URL", f"redis://:{PASSWORD}@127.0.0.1:1/0")
    code, checks = await _health(capsys, *argv, "--timeout", "1")
    assert code == 1 and checks["redis"][0] == "fail" and PASSWORD not in checks["redis"][1]
    assert checks["bot shortseller_001"][0] == "ok" and "trading.bots" in checks[
        "bot shortseller_001"][1]
    code, checks = await _health(capsys, *argv, "--timeout", "1", "--max-heartbeat-age", "0.001")
    assert checks["bot shortseller_001"][0] == "fail"
    monkeypatch.delenv("REDIS_URL")

    # Fills spooled (the listener says so in its snapshot); dead letters only warn.
    await _register(url, "shortseller_001", "stopped", now)
    snapshot(desk, spool=3, dead=2)
    code, checks = await _health(capsys, *argv)
    assert code == 1
    assert checks["spool"] == ("fail", "3 fills waiting for the database")
    assert checks["listener"][0] == "fail" and "3 fills spooled" in checks["listener"][1]
    assert checks["dead letters"][0] == "warn"
    snapshot(desk, dead=2)
    code, checks = await _health(capsys, *argv)
    assert code == 0 and checks["dead letters"][0] == "warn", checks

    # The listener stopped: its snapshot goes stale; then it is gone.
    snapshot(desk, at=datetime.now(UTC) - timedelta(minutes=5))
    code, checks = await _health(capsys, *argv)
    assert code == 1 and "old" in checks["listener"][1]
    await asyncio.to_thread(desk.unlink)
    code, checks = await _health(capsys, *argv)
    assert code == 1 and "no health snapshot" in checks["listener"][1]

    # The database down (nothing listens there): named, without the password.
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/x")
    code, checks = await _health(capsys, *argv, "--timeout", "1")
    assert code == 1 and checks["database"][0] == "fail" and "cannot connect" in checks[
        "database"][1]
    assert checks["bots"] == ("skip", "the ledger cannot be read")
    assert PASSWORD not in json.dumps(checks)


async def test_text_output_and_a_ledger_straight_to_postgres(
    desk: Path, fresh_pg_database: PgDatabase, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh_pg_database.direct_dsn)
    monkeypatch.setenv("DATABASE_URL", fresh_pg_database.direct_dsn)
    monkeypatch.delenv("REDIS_URL")
    snapshot(desk)
    code = await asyncio.to_thread(main, ["health", "--listener-health-file", str(desk)])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ok", "database"]
    assert lines[1].startswith("warn  pgbouncer") and "directly" in lines[1]
    assert lines[2].startswith("skip  redis")
    assert lines[-1] == "health: ok"
