"""A backfill stopped the hard way resumes from ``trading.sync_status``; a 10006 storm slows
a backfill and loses nothing."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from sync_support import (
    SyncSim,
    by_account,
    finish,
    ledger_rows,
    run_cli,
    start_cli,
    sync_rows,
)


async def _until_completed(db: Path, proc: asyncio.subprocess.Process, rows: int) -> int:
    """Wait until ``rows`` windows are completed (or the process ended); returns how many."""
    while proc.returncode is None:
        done = sum(1 for *_, status, _ in sync_rows(db) if status == "completed")
        if done >= rows:
            return done
        await asyncio.sleep(0.02)
    raise AssertionError("the backfill ended before it could be stopped half-way")


async def test_a_backfill_killed_half_way_resumes_to_the_same_result(
    slow_sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    sim = slow_sim
    env = sim.env(f"sqlite:///{sqlite_db}")
    proc = await start_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    await _until_completed(sqlite_db, proc, 4)
    proc.send_signal(signal.SIGKILL)
    killed = await finish(proc)
    assert killed.code == -signal.SIGKILL
    at_kill = sync_rows(sqlite_db)
    completed = sum(1 for *_, s, _ in at_kill if s == "completed")
    assert 4 <= completed < 3 * 13  # stopped half-way: windows were left to do
    partial = ledger_rows(sqlite_db)
    assert 0 < len(partial) < sum(len(ids) for ids in sim.exec_ids().values())

    resumed = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    assert resumed.code == 0, resumed.err[-3000:]
    skipped = [int(n) for n in re.findall(r"(\d+) already done", resumed.out)]
    assert sum(skipped) >= completed - 3  # the completed windows were not read again
    rows = ledger_rows(sqlite_db)
    expected = sim.exec_ids()
    assert len(rows) == sum(len(ids) for ids in expected.values())
    assert by_account(rows) == expected
    statuses = {s for *_, s, _ in sync_rows(sqlite_db)}
    assert "running" not in statuses  # the window in flight at the kill is marked, not left


async def test_a_10006_storm_slows_the_backfill_and_loses_nothing(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    faults = sim.sim.exchange.faults
    faults.rate_limit(count=6, path="/v5/execution/list")
    faults.rate_limit(count=3, path="/v5/position/closed-pnl")
    env = sim.env(f"sqlite:///{sqlite_db}")
    done = await run_cli(env, "sync", "backfill", "--months", "3", cwd=tmp_path)
    assert done.code == 0, done.err[-3000:]
    assert faults.describe()["restHits"] == {"/v5/execution/list": 6,
                                             "/v5/position/closed-pnl": 3}
    waits = [int(n) for n in re.findall(r"(\d+) rate-limit waits", done.err)]
    assert waits and max(waits) > 0, done.err[-2000:]
    rows = ledger_rows(sqlite_db)
    expected = sim.exec_ids()
    assert len(rows) == sum(len(ids) for ids in expected.values())
    assert by_account(rows) == expected
    assert {s for *_, s, _ in sync_rows(sqlite_db)} == {"completed"}
