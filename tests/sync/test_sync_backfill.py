"""``alphadesk sync backfill`` against the simulator: three accounts, three months each."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import asyncpg
from sync_support import (
    ACCOUNT,
    DAYS,
    SyncSim,
    by_account,
    funding_rows,
    ledger_rows,
    round_trip_rows,
    run_cli,
    sync_rows,
)

from alphadesk.adapters.storage import migrate
from harness.postgres import PgDatabase


async def test_backfill_records_every_execution_exactly_once(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    expected = sim.exec_ids()
    for made in sim.generated.values():  # the generated history is what the issue asks for
        assert made.funding > DAYS and made.stop_exits > 0 and made.manual_orders == 1
        assert made.executions > made.closed_pnl * 2  # partial fills: more rows than orders
    env = sim.env(f"sqlite:///{sqlite_db}")
    done = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    assert done.code == 0, done.err[-3000:]
    rows = ledger_rows(sqlite_db)
    assert len(rows) == sum(len(ids) for ids in expected.values())  # none twice
    assert by_account(rows) == expected
    for account, made in sim.generated.items():
        assert f"+{made.executions} rows" in done.out, (account, done.out)
        assert (f"{made.closed_pnl} closed-pnl records ({made.closed_pnl} set beside round "
                "trips, 0 unmatched)") in done.out
    statuses = sync_rows(sqlite_db)
    assert statuses and {s for _, _, s, _ in statuses} == {"completed"}
    assert sum(added for *_, added in statuses) == len(rows)
    check_round_trips_against_venue(sim, sqlite_db)
    for account in sim.generated:  # the secrets never reach the output
        assert "sync-secret" not in done.out + done.err, account


async def test_a_second_backfill_adds_nothing(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    env = sim.env(f"sqlite:///{sqlite_db}")
    first = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    assert first.code == 0, first.err[-3000:]
    before = ledger_rows(sqlite_db)
    windows_before = len(sync_rows(sqlite_db))
    second = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    assert second.code == 0, second.err[-3000:]
    assert sorted(ledger_rows(sqlite_db)) == sorted(before)
    assert second.out.count("+0 rows") == 3, second.out
    # only the window reaching now is read again: every older one is skipped by its row
    assert "1 windows read" in second.out
    assert len(sync_rows(sqlite_db)) <= windows_before + 3
    status = await run_cli(env, "sync", "status", cwd=tmp_path)
    assert status.code == 0, status.err
    for bot, account in ACCOUNT.items():  # rows added per bot = that account's ledger rows
        rows = sum(1 for a, _ in before if a == account)
        assert f"{bot}: last sync" in status.out and f"rows added {rows}," in status.out
    assert status.out.count("errors 0") == 3, status.out


async def test_backfill_into_postgresql_through_pgbouncer_is_exactly_once(
    sim: SyncSim, fresh_pg_database: PgDatabase, tmp_path: Path
) -> None:
    dsn = fresh_pg_database.bouncer_dsn
    await asyncio.to_thread(migrate.upgrade, dsn)
    env = sim.env(dsn)
    for _ in range(2):  # the second run adds nothing
        done = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
        assert done.code == 0, done.err[-3000:]
    conn = await asyncpg.connect(fresh_pg_database.direct_dsn)
    try:
        rows = [(r["account"], r["exec_id"]) for r in await conn.fetch(
            "SELECT account, exec_id FROM trading.fills UNION ALL "
            "SELECT account, exec_id FROM trading.funding")]
        statuses = await conn.fetch("SELECT status, trades_synced FROM trading.sync_status")
    finally:
        await conn.close()
    expected = sim.exec_ids()
    assert len(rows) == sum(len(ids) for ids in expected.values())
    assert by_account(rows) == expected
    assert {r["status"] for r in statuses} == {"completed"}
    assert sum(r["trades_synced"] for r in statuses) == len(rows)


def check_round_trips_against_venue(sim: SyncSim, sqlite_db: Path) -> None:
    """Each round trip sits beside its share of the venue's closed PnL and agrees with it to
    0.01 USDT (the venue's figure is net of fees, without funding); the round trips' funding sums
    to the ledger's funding up to each bot's last close (the open position's is not in a trip)."""
    trips = round_trip_rows(sqlite_db)
    funding = funding_rows(sqlite_db)
    cent = Decimal("0.01")
    for bot, account in ACCOUNT.items():
        mine = [t for t in trips if t["bot_id"] == bot]
        assert len(mine) >= sim.generated[account].closed_pnl, (bot, len(mine))
        assert all(t["venue_closed_pnl"] is not None for t in mine), bot
        for t in mine:
            net, fund = Decimal(t["net_pnl"]), Decimal(t["funding"])
            # funding is a cost like the commission (negative: received)
            assert Decimal(t["gross_pnl"]) - Decimal(t["total_commission"]) - fund == net
            assert abs(net + fund - Decimal(t["venue_closed_pnl"])) <= cent, dict(t)
            assert abs(Decimal(t["venue_pnl_diff"])) <= cent, dict(t)
        last_exit = max(t["exit_time"] for t in mine)
        charged = sum((Decimal(fee) for b, _, at, fee in funding if b == bot and at <= last_exit),
                      Decimal(0))
        assert charged != 0, bot
        assert sum((Decimal(t["funding"]) for t in mine), Decimal(0)) == charged, bot
