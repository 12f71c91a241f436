"""The issue's soak: 3 accounts, 5,000+ executions with socket drops, duplicates and reordering;
the listener process SIGKILLed and restarted twice; PgBouncer/PostgreSQL and Redis each taken
away and brought back once. At the end the ledger holds exactly the venue's executions, once
each, and every ``position:{bot}:{symbol}`` equals the venue's position.

The restarts are real: this test runs its own PostgreSQL (behind its own PgBouncer, transaction
pooling) and its own Redis (no persistence, so its restart loses every key and the listener must
rebuild the live positions from the ledger), started from the local binaries and stopped, then
started again, while fills keep executing.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sim_support import BTC_5M, ETH_5M, LAUNCH, eventually, sim_exec_ids

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage import migrate
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount, run_simulator
from harness.private_servers import PrivatePostgres, PrivateRedis, private_postgres, private_redis

BOTS = (("shortseller_001", "SHORTSELLER"), ("lxalgo_001", "LXALGO"),
        ("momentum_001", "MOMENTUM"))
ORDERS = 5_000
QTY = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01")}


class ListenerProcess:
    def __init__(self, env: dict[str, str], args: list[str], log: Path) -> None:
        self.log = log
        self.env = env
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", LAUNCH, "listener", *self.args, env=self.env,
                stdout=asyncio.subprocess.PIPE, stderr=log,
            )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert b"listener: recording" in line, self.log.read_text()[-3000:]
        self.starts += 1

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 30)


class Trader:
    """Market orders placed on the simulator's exchange in-process (as its REST route does), in
    steps the test drives, so each outage and kill happens while fills keep executing."""

    def __init__(self, sim: Any, accounts: list[SimAccount], rng: random.Random) -> None:
        self.sim = sim
        self.accounts = accounts
        self.rng = rng
        self.placed = 0

    async def trade(self, n: int) -> None:
        rng, exchange = self.rng, self.sim.exchange
        for _ in range(n):
            i = rng.randrange(len(self.accounts))
            bot = BOTS[i][0]
            symbol = rng.choice(sorted(QTY))
            request = OrderRequest(
                bot_id=bot, symbol=symbol, side=rng.choice((Side.BUY, Side.SELL)),
                qty=QTY[symbol] * rng.randint(1, 5), order_type=OrderType.MARKET,
                order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY),
            )
            outcome = exchange.engine.place(self.accounts[i].name, request, exchange.now_ms)
            exchange.publish_events(outcome.events)
            self.placed += 1
            if self.placed % 100 == 0:
                self.sim.advance(bars=1)
            await asyncio.sleep(0.003)


async def _chaos(sim: Any, rng: random.Random, stop: asyncio.Event,
                 quiet: asyncio.Event) -> None:
    """Faults at random; none while a listener starts (``quiet``): a held-back (reordered) auth
    reply would stall its handshake until it times out, which tests patience, not recording."""
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.2, 0.8))
        if quiet.is_set():
            continue
        fault = rng.choice(("drop", "duplicate", "duplicate", "reorder", "reorder"))
        if fault == "drop":
            sim.faults.drop_ws_after(rng.randint(5, 50), channel="private")
        elif fault == "duplicate":
            sim.faults.duplicate_execution(rng.randint(1, 10))
        else:
            sim.faults.reorder_ws(rng.randint(1, 10), channel="private")


def _logged(listener: ListenerProcess, text: str) -> bool:
    return text in listener.log.read_text()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_full_soak_with_kills_and_restarts(
    market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    rng = random.Random(5000)
    accounts = [SimAccount(f"SOAK{i}", f"soak-secret-{i}-0123456789", name=f"acct{i}",
                           balance=Decimal(10_000_000)) for i in range(3)]
    async with (
        private_postgres(tmp_path / "postgres") as pg,
        private_redis(tmp_path / "redis") as redis,
    ):
        await asyncio.to_thread(migrate.upgrade, pg.bouncer_dsn)
        state = RedisState.from_url(redis.url)
        async with run_simulator([market_csv(BTC_5M), market_csv(ETH_5M)], accounts,
                                 history_bars=300) as sim:
            env = {**os.environ, "DATABASE_URL": pg.bouncer_dsn, "REDIS_URL": redis.url,
                   "BYBIT_DEMO": "true", "BYBIT_BASE_URL": sim.base_url, "LOG_LEVEL": "WARNING"}
            for (_bot, prefix), account in zip(BOTS, accounts, strict=True):
                env[f"{prefix}_BYBIT_API_KEY"] = account.key
                env[f"{prefix}_BYBIT_API_SECRET"] = account.secret
            listener = ListenerProcess(env, [
                "--symbols", "--gapfill-every", "5",
                "--spool-dir", str(tmp_path / "spool"),
                "--health-file", str(tmp_path / "health.json")], tmp_path / "listener.log")
            await listener.start()
            trader = Trader(sim, accounts, rng)
            stop = asyncio.Event()
            quiet = asyncio.Event()
            chaos = asyncio.create_task(_chaos(sim, rng, stop, quiet))

            async def restart(while_dead: int) -> None:
                await listener.kill()  # SIGKILL
                quiet.set()
                sim.faults.clear()
                await trader.trade(while_dead)  # fills keep executing while it is dead
                await listener.start()
                quiet.clear()

            async def outage(server: PrivatePostgres | PrivateRedis, seen: str) -> None:
                await server.stop()
                while not _logged(listener, seen):  # trade until the listener has noticed
                    await trader.trade(20)
                await trader.trade(300)
                await server.start()

            try:
                await trader.trade(1000)
                await restart(400)
                await trader.trade(600)
                await outage(pg, "spooling fills")  # PostgreSQL restarts: spool
                await trader.trade(600)
                await restart(400)
                await trader.trade(600)
                await outage(redis, "bus publish failed")  # Redis restarts: ledger goes on
                await trader.trade(max(0, ORDERS - trader.placed))
                stop.set()
                await chaos
                sim.faults.clear()
                expected = set().union(*(sim_exec_ids(sim, a.name) for a in accounts))
                assert len(expected) >= 5000
                conn = await asyncpg.connect(pg.direct_dsn)
                try:
                    async def recorded() -> list[str]:
                        rows = await conn.fetch(
                            "SELECT exec_id FROM trading.fills UNION ALL "
                            "SELECT exec_id FROM trading.funding")
                        return [r["exec_id"] for r in rows]

                    async def complete() -> bool:
                        return set(await recorded()) == expected

                    try:
                        await eventually(complete, within_s=90)
                    except AssertionError:
                        missing = expected - set(await recorded())
                        where: dict[str, list[int]] = {}
                        for a in accounts:
                            page = sim.exchange.engine.executions(a.name, limit=100)
                            cursor = ""
                            while True:
                                page = sim.exchange.engine.executions(a.name, limit=100,
                                                                      cursor=cursor)
                                for e in page.items:
                                    if e.fill.exec_id in missing:
                                        where.setdefault(a.name, []).append(e.exec_ms)
                                cursor = page.next_cursor
                                if not cursor:
                                    break
                        spans = {k: (min(v), max(v), len(v)) for k, v in where.items()}
                        marks = (tmp_path / "spool" / "watermarks.json").read_text()
                        health = f"{spans}\n{marks}\n" + (tmp_path / "health.json").read_text()
                        tail = listener.log.read_text()[-3000:]
                        raise AssertionError(f"{len(missing)} executions never recorded, e.g. "
                                             f"{sorted(missing)[:3]}\n{health}\n{tail}") from None
                    ids = await recorded()
                    assert len(ids) == len(set(ids)) == len(expected)
                finally:
                    await conn.close()

                async def positions_match() -> bool:
                    for (bot, _), account in zip(BOTS, accounts, strict=True):
                        for symbol in QTY:
                            venue = sim.exchange.engine.position(account.name, symbol)
                            ours = await state.positions.get_position(bot, symbol)
                            if ours is None or (ours.size, ours.side) != (venue.size, venue.side):
                                return False
                    return True

                await eventually(positions_match, within_s=20)
                assert listener.starts == 3
                log = (tmp_path / "listener.log").read_text()
                assert "spooling fills" in log and "spool replayed" in log  # the database outage
                assert "state store is back" in log or "bus publish failed" in log
                print(f"full soak: {len(expected)} executions recorded once; "
                      f"{listener.starts} listener starts")
            finally:
                stop.set()
                chaos.cancel()
                code = await listener.stop()
                await state.aclose()
            assert code == 0
