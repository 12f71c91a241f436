"""``alphadesk run`` as a real process against the local Bybit simulator in demo mode: it
migrates the ledger (PostgreSQL through PgBouncer), starts the listener, the bot and the sync from
``alphadesk.toml``; a fill on the bot's account goes through the listener into the ledger and onto
``events:fills``; SIGTERM (or Ctrl-C) stops every part with exit 0 and the position stays open
on the venue."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from deploy_support import BTC_5M, account, eventually, market_order, trader
from redis.asyncio import Redis

from alphadesk.domain.enums import Side
from alphadesk.simulator import run_simulator
from harness.postgres import PgDatabase

BOT = "lxalgo_001"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
async def test_run_records_a_fill_and_stops_on_a_signal_leaving_positions_open(
    stop: signal.Signals, market_csv: Callable[[str], Path], tmp_path: Path,
    fresh_pg_database: PgDatabase, redis_url: str, redis_prefix: str,
) -> None:
    acct = account("lxalgo", 1)
    config = tmp_path / "alphadesk.toml"
    config.write_text(
        '[bots.lxalgo]\nmode = "demo"\nsymbols = ["BTCUSDT"]\n'
        f'[run]\nsync_every = "10m"\nlistener_symbols = ["BTCUSDT"]\n'
        f'state_dir = "{tmp_path / "state"}"\nheartbeat = "1s"\n'
    )
    async with run_simulator([market_csv(BTC_5M)], [acct], history_bars=300) as sim:
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_BYBIT_API_KEY")
               and not k.endswith("_BYBIT_API_SECRET")},
            "DATABASE_URL": fresh_pg_database.bouncer_dsn,
            "REDIS_URL": redis_url,
            "BYBIT_DEMO": "true",
            "BYBIT_BASE_URL": sim.base_url,
            "LXALGO_BYBIT_API_KEY": acct.key,
            "LXALGO_BYBIT_API_SECRET": acct.secret,
            "LOG_FORMAT": "json",
        }
        env.pop("ALPHADESK_METRICS_PORT", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alphadesk.app.cli", "run", "--config", str(config),
            "--namespace", redis_prefix, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out: list[str] = []
        client = await trader(sim.base_url, acct)
        redis = Redis.from_url(redis_url)
        try:
            assert proc.stdout is not None
            while not any("run: desk running" in line for line in out):
                line = await asyncio.wait_for(proc.stdout.readline(), 90)
                assert line, f"run ended before the desk was up: {out}"
                out.append(line.decode())
            assert "listener, lxalgo_001, sync" in out[-1]
            await market_order(client, BOT, "BTCUSDT", Side.BUY, "0.01")
            conn = await asyncpg.connect(fresh_pg_database.direct_dsn)
            try:
                async def recorded() -> bool:
                    n = await conn.fetchval(
                        "SELECT count(*) FROM trading.fills WHERE bot_id = $1", BOT)
                    return bool(n)

                await eventually(recorded, within_s=30)
                await eventually(lambda: redis.xlen(f"{redis_prefix}events:fills"), 10)
                row = await conn.fetchrow(
                    "SELECT side, exec_qty FROM trading.fills WHERE bot_id = $1", BOT)
                assert row is not None and str(row["exec_qty"]).rstrip("0") == "0.01"
                registered = await conn.fetchval(
                    "SELECT deployment_mode FROM trading.bots WHERE bot_id = $1", BOT)
                assert registered == "demo"
            finally:
                await conn.close()
            proc.send_signal(stop)
            code = await asyncio.wait_for(proc.wait(), 60)
            rest, err = await proc.stdout.read(), await proc.stderr.read() if proc.stderr else b""
            out.append(rest.decode())
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await redis.aclose()
        try:
            positions = {p.symbol: p for p in await client.trading.positions()}
        finally:
            await client.close()
    text = "".join(out)
    assert code == 0, err.decode()[-3000:]
    assert "run: stopping (positions stay open)" in text
    assert f"run: {BOT}:" in text and "(left open)" in text
    held = positions["BTCUSDT"]
    assert held.side is Side.BUY and str(held.size).rstrip("0") == "0.01"  # never flattened
    assert acct.secret.encode() not in err and acct.secret not in text
