"""``alphadesk db backup`` / ``db restore`` on the real PostgreSQL (pg_dump custom format, straight
to the server) and on SQLite (the online-backup API, taken while a writer holds the file open):
a restored ledger has every fill, funding row, round trip and bot of the original; retention keeps
the newest N; errors name the cause and never the password."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from alphadesk.adapters.storage import backup as backups
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.urls import parse
from alphadesk.app.cli import main
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper
from harness import postgres as pgh
from harness.postgres import PgDatabase, PgServer

T0 = datetime(2025, 5, 3, 8, 0, tzinfo=UTC)
D = Decimal
PASSWORD = "backup-pw-0123456789"
BOTS = ("lxalgo_001", "momentum_001")


def _fill(n: int, bot: str, side: str, price: str, qty: str, minutes: int, *,
          funding: bool = False) -> Fill:  # fmt: skip
    return Fill(
        venue="bybit", account=f"acct-{bot}", exec_id=f"x-{bot}-{n}", bot_id=bot,
        symbol="BTCUSDT", side=Side(side), price=D(price), qty=D(qty),
        fee=D("0.31") if funding else D("1.2345"),
        exec_time=T0 + timedelta(minutes=minutes),
        exec_type=ExecType.FUNDING if funding else ExecType.TRADE, order_id=f"o-{bot}-{n}",
    )  # fmt: skip


def _fills() -> list[Fill]:
    out = []
    for b, bot in enumerate(BOTS):
        for i in range(6):
            buy_first = (i + b) % 2 == 0
            out.append(_fill(2 * i, bot, "Buy" if buy_first else "Sell", f"{95000 + 10 * i}",
                             "0.01", 60 * i))
            out.append(_fill(2 * i + 1, bot, "Sell" if buy_first else "Buy",
                             f"{95100 + 7 * i}.5", "0.01", 60 * i + 30))
        out.append(_fill(99, bot, "Buy", "95000", "0.01", 480, funding=True))
    return out


async def _seed(url: str) -> None:
    """Bots registered, fills recorded through the one entrance with the round-trip keeper."""
    await asyncio.to_thread(migrate.upgrade, url)
    bots = await open_bots(url)
    store = await open_store(url)
    trips = await open_round_trips(url)
    try:
        for bot in BOTS:
            await bots.register(BotRecord(bot, bot, "strategy", bot.split("_")[0], "active",
                                          "demo", D("1000.50"), D("1012.25"), T0))
        recorder = FillRecorder(FillWriter(store), trades=RoundTripKeeper(store, trips))
        await recorder.record(_fills())
    finally:
        await trips.close()
        await store.close()
        await bots.close()


TABLES = {
    "fills": "venue, account, exec_id", "funding": "venue, account, exec_id",
    "completed_trades": "trade_id", "bots": "bot_id", "positions": "bot_id, symbol",
}


async def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the ledger's tables, as text, in key order."""
    parsed = parse(url)
    if parsed.kind == "postgresql":
        conn = await asyncpg.connect(parsed.asyncpg_dsn)
        try:
            return {t: [tuple(r) for r in await conn.fetch(
                f"SELECT * FROM trading.{t} ORDER BY {k}")]
                for t, k in TABLES.items()}  # fmt: skip
        finally:
            await conn.close()
    assert parsed.sqlite_path is not None
    conn2 = sqlite3.connect(parsed.sqlite_path)
    try:
        return {t: conn2.execute(f"SELECT * FROM {t} ORDER BY {k}").fetchall()
                for t, k in TABLES.items()}
    finally:
        conn2.close()


def _cli(argv: Sequence[str]) -> Any:
    return asyncio.to_thread(main, list(argv))


def _listing(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def _with_password(dsn: str) -> str:
    return dsn.replace("postgres@", f"postgres:{PASSWORD}@", 1)


async def test_postgres_backup_restores_every_fill_round_trip_and_bot(
    fresh_pg_database: PgDatabase, pg_server: PgServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_pg_database.bouncer_dsn)
    await _seed(fresh_pg_database.bouncer_dsn)
    before = await _rows(fresh_pg_database.direct_dsn)
    assert len(before["fills"]) == 24 and len(before["funding"]) == 2
    assert len(before["completed_trades"]) == 12 and len(before["bots"]) == 2

    # Through PgBouncer: refused, naming why, without the password.
    monkeypatch.setenv("BACKUP_DATABASE_URL", _with_password(fresh_pg_database.bouncer_dsn))
    assert await _cli(["db", "backup", "--to", f"{tmp_path}/"]) == 1
    err = capsys.readouterr().err
    assert "PgBouncer" in err and "BACKUP_DATABASE_URL" in err and PASSWORD not in err
    assert _listing(tmp_path) == []

    # Straight to PostgreSQL (the password goes in PGPASSWORD; trust auth ignores it here).
    monkeypatch.setenv("BACKUP_DATABASE_URL", _with_password(fresh_pg_database.direct_dsn))
    assert await _cli(["db", "backup", "--to", f"{tmp_path}/"]) == 0
    out = capsys.readouterr().out
    (dump,) = _listing(tmp_path)
    assert backups.NAME_RE.match(dump.name) and dump.suffix == ".dump"
    assert dump.read_bytes().startswith(b"PGDMP") and str(dump) in out and PASSWORD not in out

    async with pgh.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as target:
        assert await _cli(["db", "restore", str(dump),
                           "--database-url", _with_password(target.direct_dsn)]) == 0
        out = capsys.readouterr().out
        assert "24 fills, 12 round trips, 2 bots" in out and PASSWORD not in out
        assert await _rows(target.direct_dsn) == before
        assert await asyncio.to_thread(migrate.current, target.bouncer_dsn) == (migrate.head(),)
        # The ledger works after the restore: one more fill lands through PgBouncer.
        store = await open_store(target.bouncer_dsn)
        try:
            result = await FillRecorder(FillWriter(store)).record(
                [_fill(100, "lxalgo_001", "Buy", "96000", "0.01", 600)])
        finally:
            await store.close()
        assert len(result.inserted) == 1
        # A second restore over a ledger is refused unless --replace.
        assert await _cli(["db", "restore", str(dump), "--database-url", target.direct_dsn]) == 1
        assert "already holds a ledger" in capsys.readouterr().err
        assert await _cli(["db", "restore", str(dump), "--replace",
                           "--database-url", target.direct_dsn]) == 0
        assert await _rows(target.direct_dsn) == before


async def test_sqlite_backup_while_open_restores_everything_and_retention_keeps_n(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BACKUP_DATABASE_URL", raising=False)
    await _seed(url)
    before = await _rows(url)
    assert len(before["fills"]) == 24 and len(before["completed_trades"]) == 12
    folder = tmp_path / "backups"
    store = await open_store(url)  # a writer holds the WAL file open during the backups
    try:
        for _ in range(4):
            assert await _cli(["db", "backup", "--to", f"{folder}/", "--keep", "2"]) == 0
    finally:
        await store.close()
    out = capsys.readouterr().out
    kept = _listing(folder)
    assert len(kept) == 2 and out.count("deleted ") == 2
    assert all(backups.NAME_RE.match(p.name) and p.suffix == ".sqlite3" for p in kept)
    newest = kept[-1]
    assert f"backed up to {newest}" in out
    assert not list(folder.glob("*-wal")) and newest.read_bytes().startswith(b"SQLite format 3")

    target = tmp_path / "restored.db"
    assert await _cli(["db", "restore", str(newest), "--database-url", f"sqlite:///{target}"]) == 0
    assert "24 fills, 12 round trips, 2 bots" in capsys.readouterr().out
    assert await _rows(f"sqlite:///{target}") == before
    assert await asyncio.to_thread(migrate.current, f"sqlite:///{target}") == (migrate.head(),)
    assert await _cli(["db", "restore", str(newest), "--database-url", f"sqlite:///{target}"]) == 1
    assert "already holds a ledger" in capsys.readouterr().err

    # A SQLite backup is refused by a PostgreSQL database and the other way round.
    assert await _cli(["db", "restore", str(newest), "--database-url",
                       f"postgresql://u:{PASSWORD}@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert "sqlite backup; it restores only into a sqlite database" in err and PASSWORD not in err


def test_prune_keeps_the_newest_of_this_database_only(tmp_path: Path) -> None:
    names = [backups.file_name("ledger", "sqlite", T0 + timedelta(hours=h)) for h in range(5)]
    other = backups.file_name("other", "postgresql", T0)
    for name in [*names, other, "notes.txt"]:
        (tmp_path / name).write_text("x")
    gone = backups.prune(tmp_path, "ledger", 3)
    assert sorted(p.name for p in gone) == names[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[2:], other, "notes.txt"])
    with pytest.raises(backups.BackupError, match="at least 1"):
        backups.prune(tmp_path, "ledger", 0)


async def test_missing_tool_unreachable_database_and_bad_flags_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    pg_database: PgDatabase,
) -> None:
    monkeypatch.delenv("BACKUP_DATABASE_URL", raising=False)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("ALPHADESK_PG_BIN", str(empty))
    assert await _cli(["db", "backup", "--to", f"{tmp_path}/",
                       "--database-url", _with_password(pg_database.direct_dsn)]) == 1
    err = capsys.readouterr().err
    assert "pg_dump not found on ALPHADESK_PG_BIN" in err and "postgresql-client-15" in err
    assert PASSWORD not in err
    monkeypatch.delenv("ALPHADESK_PG_BIN")

    assert await _cli(["db", "backup", "--to", f"{tmp_path}/",
                       "--database-url", f"postgresql://u:{PASSWORD}@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert "--database-url='postgresql://u:***@127.0.0.1:1/x': cannot connect" in err
    assert PASSWORD not in err

    assert await _cli(["db", "backup", "--keep", "0", "--database-url",
                       f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert "--keep=0: must be at least 1" in capsys.readouterr().err
    assert await _cli(["db", "restore", str(tmp_path / "nope.dump")]) == 1
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.dump").write_text("not a dump")
    assert await _cli(["db", "restore", str(tmp_path / "junk.dump")]) == 1
    assert "neither a pg_dump custom-format archive nor a SQLite file" in capsys.readouterr().err


async def test_every_runs_as_a_service_keeping_n_until_stopped(tmp_path: Path) -> None:
    """``db backup --every`` is the scheduled backup a deployment runs: one now, one per
    interval, the newest N kept, a clean exit on SIGTERM."""
    import os
    import signal
    import sys

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await _seed(url)
    folder = tmp_path / "backups"
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("BACKUP_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "db", "backup", "--every", "1s", "--keep", "2",
        "--to", f"{folder}/", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    made = []
    try:
        assert proc.stdout is not None
        while len(made) < 3:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "the service stopped by itself"
            if "backed up to" in line:
                made.append(line.split("backed up to ")[1].split(" (")[0])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    assert len(set(made)) == 3
    assert [str(p) for p in _listing(folder)] == sorted(made)[-2:]
