"""``alphadesk listener`` as a real process: env settings, simulator over sockets, SQLite ledger,
Redis state; fills recorded, bars and prices published, health written, clean SIGTERM stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from listener_support import State, sqlite_ledger
from sim_support import (
    BTC_5M,
    LAUNCH,
    eventually,
    market,
    sim_account,
    sim_exec_ids,
    spec,
    trader,
)

from alphadesk.adapters.bybit import UnsafeApiKey
from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain.enums import Side
from alphadesk.engine.ingest import Ingest
from alphadesk.listener.service import Listener
from alphadesk.simulator import SimAccount, run_simulator


async def test_listener_command_records_fills_bars_and_health(
    market_csv: Callable[[str], Path], tmp_path: Path, state: State, redis_url: str,
    redis_prefix: str,
) -> None:
    ledger = await sqlite_ledger(tmp_path / "ledger.db")
    account = sim_account(1)
    async with run_simulator([market_csv(BTC_5M)], [account], history_bars=300) as sim:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "REDIS_URL": redis_url,
            "BYBIT_DEMO": "true",
            "BYBIT_BASE_URL": sim.base_url,
            "SHORTSELLER_BYBIT_API_KEY": account.key,
            "SHORTSELLER_BYBIT_API_SECRET": account.secret,
            "LXALGO_BYBIT_API_KEY": "",
            "MOMENTUM_BYBIT_API_KEY": "",
        }
        health = tmp_path / "health.json"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LAUNCH, "listener", "--symbols", "BTCUSDT",
            "--namespace", redis_prefix, "--health-file", str(health),
            "--spool-dir", str(tmp_path / "spool"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        client = await trader(sim, account)
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert b"listener: recording shortseller (shortseller_001)" in line
            for side in (Side.BUY, Side.BUY, Side.SELL):
                await market(client, "shortseller_001", "BTCUSDT", side, "0.01")
            expected = sim_exec_ids(sim, account.name)
            await eventually(lambda: _same(ledger, expected), within_s=15)
            await eventually(lambda: _count(ledger, "orders", 3), within_s=10)
            # the sell closed 0.01 of the first buy: the listener's round trip, under the bot
            await eventually(lambda: _count(ledger, "completed_trades", 1), within_s=10)
            (trip,) = await ledger.fetch("SELECT bot_id, source FROM trading.completed_trades")
            assert trip == {"bot_id": "shortseller_001", "source": "ledger"}
            statuses = await ledger.fetch("SELECT DISTINCT status FROM trading.orders")
            assert statuses == [{"status": "Filled"}]
            await eventually(lambda: _count(ledger, "equity", 1), within_s=10)
            sim.advance(bars=3)
            await eventually(lambda: _len(state, state.keys.bars_stream), within_s=10)
            assert await state.markets.get_price("BTCUSDT") is not None
            position = await state.positions.get_position("shortseller_001", "BTCUSDT")
            assert position is not None and str(position.size) == "0.01"
            await eventually(health.exists, within_s=5)
            report = json.loads(health.read_text())
            assert report["accounts"][0]["account"] == "shortseller"
            assert report["counters"]["inserted"] == 3
        finally:
            await client.close()
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 20)
            err = await proc.stderr.read() if proc.stderr else b""
        assert code == 0, err.decode()[-2000:]
        assert account.secret.encode() not in err
    await ledger.store.close()


async def test_a_key_that_can_withdraw_is_refused_at_start(
    market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    risky = SimAccount("RISKY001", "risky-secret-0123456789", name="acct1", withdraw=True)
    ledger = await sqlite_ledger(tmp_path / "ledger.db")
    async with run_simulator([market_csv(BTC_5M)], [risky], history_bars=10) as sim:
        listener = Listener(Ingest(ledger.writer, DiskSpool(tmp_path / "s")),
                            [spec(sim, risky, "bot1")])
        with pytest.raises(UnsafeApiKey):
            await listener.start()
        await listener.close()
    await ledger.store.close()


async def _same(ledger: Any, expected: set[str]) -> bool:
    return set(await ledger.exec_ids()) == expected


async def _count(ledger: Any, table: str, at_least: int) -> bool:
    rows = await ledger.fetch(f"SELECT count(*) AS n FROM trading.{table}")
    return int(rows[0]["n"]) >= at_least


async def _len(state: State, key: str) -> bool:
    return bool(await state.client.xlen(key))



