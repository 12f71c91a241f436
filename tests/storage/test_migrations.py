"""Alembic migrations run on SQLite and on PostgreSQL (through PgBouncer), and ``alphadesk db``
applies them to DATABASE_URL, printing what it applied."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from alphadesk.adapters.storage import migrate
from alphadesk.app.commands import db as db_command
from harness import postgres as pgh

TABLES = {
    "bots",
    "fills",
    "funding",
    "orders",
    "positions",
    "completed_trades",
    "sync_status",
    "equity",
    "control_audit",
    "alembic_version",
}


def _run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="alphadesk")
    sub = parser.add_subparsers(dest="command")
    db_command.register(sub)
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


def _sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def test_sqlite_upgrade_is_versioned_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert migrate.current(url) == ()
    assert not (tmp_path / "a.db").exists()  # reading the revision creates nothing
    applied = migrate.upgrade(url)
    assert [a.split(" (")[0] for a in applied] == [
        "upgraded to 0001",
        "upgraded to 0002",
        "upgraded to 0003",
        "upgraded to 0004",
        "upgraded to 0005",
    ]
    assert migrate.current(url) == (migrate.head(),)
    assert _sqlite_tables(tmp_path / "a.db") == TABLES
    assert migrate.upgrade(url) == []
    assert migrate.downgrade(url, "base")[-1].startswith("downgraded from 0001")
    assert _sqlite_tables(tmp_path / "a.db") == {"alembic_version"}
    assert migrate.upgrade(url) != []


def test_sqlite_checks_and_unique_key_hold(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    migrate.upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    insert = (
        "INSERT INTO fills (venue, account, exec_id, bot_id, symbol, side, exec_price, exec_qty,"
        " exec_time, commission, exec_type) VALUES (?, ?, ?, 'b', 'BTCUSDT', ?, ?, '0.5',"
        " '2025-05-03T11:06:40.353000+00:00', '0.1', 'Trade')"
    )
    conn.execute(insert, ("bybit", "1", "x1", "Buy", "95900.1"))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(insert, ("bybit", "1", "x1", "Buy", "95900.1"))
    with pytest.raises(sqlite3.IntegrityError, match="side_valid"):
        conn.execute(insert, ("bybit", "1", "x2", "buy", "95900.1"))
    with pytest.raises(sqlite3.IntegrityError, match="price_positive"):
        conn.execute(insert, ("bybit", "1", "x3", "Sell", "0.0"))
    conn.close()


def test_cli_upgrade_and_current_on_default_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert _run_cli("db", "upgrade") == 0
    out = capsys.readouterr().out
    assert f"sqlite:///{tmp_path / 'alphadesk.db'}: upgraded to 0001" in out
    assert (tmp_path / "alphadesk.db").exists()
    assert _run_cli("db", "upgrade") == 0
    assert "nothing to apply" in capsys.readouterr().out
    assert _run_cli("db", "current") == 0
    assert f"{migrate.head()} (up to date)" in capsys.readouterr().out


def test_cli_rejects_an_unknown_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli("db", "upgrade", "--url", "mysql://root:hunter2@db/x") == 2
    err = capsys.readouterr().err
    assert "--url='mysql://root:***@db/x'" in err and "hunter2" not in err


@pytest.mark.postgres
async def test_postgres_through_pgbouncer(
    fresh_pg_database: pgh.PgDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = fresh_pg_database.bouncer_dsn
    monkeypatch.setenv("DATABASE_URL", url)
    assert await asyncio.to_thread(_run_cli, "db", "current") == 0
    assert "none (not migrated)" in capsys.readouterr().out
    assert await asyncio.to_thread(_run_cli, "db", "upgrade") == 0
    assert "upgraded to 0001" in capsys.readouterr().out
    assert await asyncio.to_thread(migrate.current, url) == (migrate.head(),)
    assert await asyncio.to_thread(migrate.upgrade, url) == []

    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'trading'"
        )
        assert {r["table_name"] for r in tables} == TABLES
        cols = {
            r["column_name"]: r
            for r in await conn.fetch(
                "SELECT column_name, data_type, numeric_precision FROM information_schema.columns"
                " WHERE table_schema = 'trading' AND table_name = 'fills'"
            )
        }
        assert cols["exec_price"]["data_type"] == "numeric"
        assert cols["exec_price"]["numeric_precision"] is None  # unconstrained: no rounding
        assert cols["exec_time"]["data_type"] == "timestamp with time zone"
        seq_columns = await conn.fetch(
            "SELECT table_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'trading' AND column_name = 'seq' ORDER BY table_name"
        )
        assert [tuple(r) for r in seq_columns] == [
            ("fills", "bigint", "YES"),
            ("funding", "bigint", "YES"),
        ]
        unique = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'fills_exec_key'"
        )
        assert unique == "UNIQUE (venue, account, exec_id)"
        now_indexes = await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'trading'"
            " AND indexdef ILIKE '%now()%'"
        )
        assert now_indexes == []
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO trading.bots (bot_id, bot_name, bot_type, strategy_name,"
                " deployment_mode, initial_capital) VALUES ('x', 'x', 'x', 'x', 'mainnet', 10000)"
            )
        await conn.execute(
            "INSERT INTO trading.bots (bot_id, bot_name, bot_type, strategy_name,"
            " deployment_mode, initial_capital, status)"
            " VALUES ('lxalgo_001', 'LX Technical Analysis Bot', 'lxalgo',"
            " 'LX Multi-Indicator Strategy', 'demo', 10000, 'halted')"
        )
    finally:
        await conn.close()
    # a new session of the database (the bouncer may hand out one opened before the upgrade)
    direct = await asyncpg.connect(fresh_pg_database.direct_dsn)
    try:
        assert await direct.fetchval("SHOW jit") == "off"
    finally:
        await direct.close()

    assert await asyncio.to_thread(_run_cli, "db", "downgrade", "base") == 0
    assert "downgraded from 0001" in capsys.readouterr().out
    assert await asyncio.to_thread(migrate.current, url) == ()


def test_sqlite_seq_column_comes_and_goes_with_revision_0003(tmp_path: Path) -> None:
    """0003 adds the venue's ``seq`` to both execution tables; undoing it drops only that."""
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"

    def columns(table: str) -> dict[str, str]:
        with sqlite3.connect(path) as conn:
            return {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({table})")}

    migrate.upgrade(url, "0002")
    assert "seq" not in columns("fills")
    migrate.upgrade(url, "0003")
    assert columns("fills")["seq"] == columns("funding")["seq"] == "BIGINT"
    assert [a.split(" (")[0] for a in migrate.downgrade(url, "0002")] == ["downgraded from 0003"]
    assert "seq" not in columns("fills") and "exec_id" in columns("funding")


def test_sqlite_venue_pnl_columns_come_and_go_with_revision_0004(tmp_path: Path) -> None:
    """0004 adds the venue's closed PnL and the difference beside each round trip, nullable."""
    path = tmp_path / "v.db"
    url = f"sqlite:///{path}"

    def columns() -> dict[str, tuple[str, int]]:
        with sqlite3.connect(path) as conn:
            info = conn.execute("PRAGMA table_info(completed_trades)")
            return {r[1]: (r[2], r[3]) for r in info}

    migrate.upgrade(url, "0003")
    assert "venue_closed_pnl" not in columns()
    migrate.upgrade(url, "0004")
    assert columns()["venue_closed_pnl"] == columns()["venue_pnl_diff"] == ("TEXT", 0)
    assert [a.split(" (")[0] for a in migrate.downgrade(url, "0003")] == ["downgraded from 0004"]
    assert "venue_pnl_diff" not in columns() and "net_pnl" in columns()


def test_sqlite_control_audit_comes_and_goes_with_revision_0005(tmp_path: Path) -> None:
    """0005 adds ``trading.control_audit``: one row per command, keyed by its id."""
    path = tmp_path / "a.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url, "0004")
    assert "control_audit" not in _sqlite_tables(path)
    migrate.upgrade(url)
    with sqlite3.connect(path) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(control_audit)")]
        insert = (
            "INSERT INTO control_audit (command_id, at, actor, bot_id, command, outcome) "
            "VALUES ('c1', '2025-11-07T01:55:00.000000+00:00', 'cli:me', 'b', 'halt', 'x')"
        )
        conn.execute(insert)
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(insert)
    assert columns == ["id", "command_id", "at", "actor", "bot_id", "command", "args",
                       "outcome", "applied_at"]  # fmt: skip
    assert [a.split(" (")[0] for a in migrate.downgrade(url, "0004")] == ["downgraded from 0005"]
    assert "control_audit" not in _sqlite_tables(path)
