"""A backfill while the listener writes the same history: no duplicates, each fill announced
once on ``events:fills`` (both processes on the real Redis, one key namespace)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

from redis.asyncio import Redis
from sync_support import ACCOUNT, BOTS, SyncSim, by_account, finish, ledger_rows, start_cli

from alphadesk.adapters.bybit import AccountConfig, Environment, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool, decode_fill
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.engine.clock import utc_now
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.listener.service import Listener


async def test_a_backfill_beside_the_listener_writes_and_announces_each_fill_once(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    expected = sim.exec_ids()
    store = await SqliteLedger.connect(sqlite_db)
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    spool = DiskSpool(tmp_path / "listener-spool")
    ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,
                    markets=state.market)
    specs = [
        AccountSpec(AccountConfig(ACCOUNT[bot], account.key, Secret(account.secret),
                                  Environment.DEMO, base_url=sim.sim.base_url), (bot,))
        for account, (bot, _) in zip(sim.accounts, BOTS, strict=True)
    ]
    # The listener's first gap-fill reads the whole three months too: both write the same rows.
    listener = Listener(ingest, specs, history_start=utc_now() - timedelta(days=92),
                        gapfill_every_s=None)
    env = sim.env(f"sqlite:///{sqlite_db}", redis_url=redis_url)
    proc = await start_cli(env, "sync", "backfill", "--months", "3", "--namespace",
                           redis_prefix, "--spool-dir", str(tmp_path / "sync-spool"),
                           cwd=tmp_path)
    try:
        await listener.start(within_s=60)
        done = await finish(proc)
        assert done.code == 0, done.err[-3000:]
        rows = ledger_rows(sqlite_db)
        assert len(rows) == sum(len(ids) for ids in expected.values())
        assert by_account(rows) == expected
        while any(feed.gapfill.last is None for feed in listener.feeds):  # its gap-fills end
            assert not any(feed.gapfill.failures for feed in listener.feeds)
            await asyncio.sleep(0.02)
        # every row was inserted by exactly one of the two writers
        added = sum(int(n) for n in re.findall(r"\+(\d+) rows", done.out))
        assert added + ingest.stats.inserted == len(rows), (added, ingest.stats.inserted)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await listener.close()
        spool.close()
        await store.close()
    client = Redis.from_url(redis_url)
    try:
        entries = await client.xrange(state.keys.fills_stream)
    finally:
        await client.aclose()
        await state.aclose()
    announced = Counter(decode_fill(fields[b"data"]).exec_id for _, fields in entries)
    assert announced and max(announced.values()) == 1  # no fill announced twice
    assert set(announced) == set().union(*expected.values())  # and none left out
