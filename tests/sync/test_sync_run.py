"""``alphadesk sync run`` (from each bot's cursor), ``--every``, bad input, ``/sim/history``."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
from sync_support import ACCOUNT, BOTS, SyncSim, finish, ledger_rows, run_cli, start_cli, sync_rows

WEEK_MS = 7 * 86_400_000
MINUTE_MS = 60_000


async def test_run_records_the_last_week_then_carries_on_from_its_cursor(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    env = sim.env(f"sqlite:///{sqlite_db}")
    before_ms = int(time.time() * 1000)
    first = await run_cli(env, "sync", "run", cwd=tmp_path)
    after_ms = int(time.time() * 1000)
    assert first.code == 0, first.err[-3000:]
    recorded = set(ledger_rows(sqlite_db))
    engine = sim.sim.exchange.engine
    for account, (bot, _) in zip(sim.accounts, BOTS, strict=True):
        label = ACCOUNT[bot]
        times = {e.fill.exec_id: e.exec_ms for e in engine._account(account.name).executions}
        mine = {i for a, i in recorded if a == label}
        assert mine <= set(times)
        # with no cursor yet, a week back from now: all of it, nothing older
        assert {i for i, t in times.items() if t >= after_ms - WEEK_MS + MINUTE_MS} <= mine
        assert all(times[i] >= before_ms - WEEK_MS - MINUTE_MS for i in mine)
        assert mine  # the generated history is dense enough to have some
    second = await run_cli(env, "sync", "run", cwd=tmp_path)
    assert second.code == 0, second.err[-3000:]
    assert set(ledger_rows(sqlite_db)) == recorded
    assert second.out.count("+0 rows") == 3
    rows = sync_rows(sqlite_db)
    assert {t for _, t, _, _ in rows} == {"hourly"} and {s for *_, s, _ in rows} == {"completed"}


async def test_run_every_repeats_until_stopped(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    env = sim.env(f"sqlite:///{sqlite_db}")
    proc = await start_cli(env, "sync", "run", "--every", "1s", "--bot", "lxalgo_001",
                           cwd=tmp_path)
    try:
        while proc.returncode is None:  # wait for a second pass: a second run's rows
            runs = {r for r in sync_rows(sqlite_db) if r[2] == "completed"}
            if len(sync_rows(sqlite_db)) > 2 and len(runs) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    done = await finish(proc)
    assert done.code == 0, done.err[-3000:]
    assert done.out.count("sync lxalgo_001:") >= 2
    assert {bot for bot, *_ in sync_rows(sqlite_db)} == {"lxalgo_001"}


async def test_bad_input_is_one_clear_line_naming_the_flag(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path
) -> None:
    env = sim.env(f"sqlite:///{sqlite_db}")
    for args, flag in (
        (("sync", "backfill", "--months", "0"), "--months"),
        (("sync", "run", "--every", "10x"), "--every"),
        (("sync", "backfill", "--months", "1", "--bot", "nobody"), "nobody"),
        (("sync", "status", "--limit", "0"), "--limit"),
    ):
        done = await run_cli(env, *args, cwd=tmp_path)
        assert done.code == 2, (args, done.err)
        lines = done.err.strip().splitlines()
        assert len(lines) == 1 and flag in lines[0], (args, done.err)
    assert sync_rows(sqlite_db) == []


async def test_the_history_control_endpoint_generates_and_checks_its_body(
    sim: SyncSim,
) -> None:
    url = f"{sim.sim.base_url}/sim/history"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"account": "nobody"}) as reply:
            assert reply.status == 400
            assert "account" in (await reply.json())["error"]
        async with http.post(url, json={"account": "acct1", "days": 0}) as reply:
            assert reply.status == 400
            assert "days" in (await reply.json())["error"]
        before = len(sim.sim.exchange.engine._account("acct1").executions)
        async with http.post(url, json={"account": "acct1", "bot": "shortseller_001",
                                        "days": 2, "seed": 3}) as reply:
            assert reply.status == 200
            made = await reply.json()
    assert made["executions"] > 0 and made["account"] == "acct1"
    after = len(sim.sim.exchange.engine._account("acct1").executions)
    assert after - before == made["executions"]
