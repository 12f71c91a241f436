"""Sync speed: ``alphadesk sync backfill`` of 3 accounts × 3 months at Bybit-like rate limits.

The local simulator serves three accounts, each with three months of generated history
(``alphadesk.simulator.history_gen``: market orders at candle prices, partial fills, funding
every 8 h, stop exits, one manual trade; ``BENCH_ACTIONS_PER_DAY`` orders a day, default 40).
``/v5/execution/list`` and ``/v5/position/closed-pnl`` are enforced at Bybit's non-VIP 10
requests a second per key and endpoint (10006 past it), the order endpoints at 10/s as always.
The simulator runs in a child process (as Bybit is another machine); the backfill runs the
command's own composition in this one (settings from the environment, a SQLite ledger in a
temporary folder, in-process state), timed from the first request to the last window recorded.

The floor is the least time the limits allow for the requests the history needs: per key and
endpoint, n requests at L a second in 1-second windows take at least ``ceil(n / L) - 1`` seconds
(the first window opens with the first request); accounts run side by side on their own keys,
so the floor is the largest per account, over the requests each account's client sent (per
endpoint; with no request refused and none retried these are the pages the history needs: per
7-day window, pages of 100 rows of executions and of closed-PnL records).
Printed: ``backfill: N executions/s`` and ``floor ratio: X`` (goal: at most 1.2).
Run: ``.venv/bin/python benchmarks/sync.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from alphadesk.adapters.storage import migrate
from alphadesk.app.commands import sync as sync_command
from alphadesk.data import market_dir
from alphadesk.simulator import LimitGroup, RateLimits, SimAccount
from alphadesk.simulator.ratelimits import ORDER_PATHS

PER_SECOND = 10
HISTORY_PATHS = ("/v5/execution/list", "/v5/position/closed-pnl")
BOTS = (("shortseller_001", "SHORTSELLER"), ("lxalgo_001", "LXALGO"),
        ("momentum_001", "MOMENTUM"))
ACTIONS = float(os.environ.get("BENCH_ACTIONS_PER_DAY", "40"))
HERE = Path(__file__).resolve().parent
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "market"
CANDLES = ("BTCUSDT_5m_bybit-perp-20250924-20251122.csv",
           "ETHUSDT_5m_bybit-perp-20250924-20251122.csv")


def _candles() -> list[Path]:
    found = []
    for name in CANDLES:
        for directory in (market_dir(), FIXTURES):
            if (directory / name).is_file():
                found.append(directory / name)
                break
        else:
            raise SystemExit(f"candles {name} not found")
    return found


def _limits() -> RateLimits:
    paths = (*ORDER_PATHS, *HISTORY_PATHS)
    return RateLimits(groups=MappingProxyType({p: LimitGroup(p, PER_SECOND) for p in paths}))


SERVE = """
import asyncio, sys, time
from decimal import Decimal
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import sync as bench
from alphadesk.simulator import SimAccount, run_simulator
from alphadesk.simulator.history_gen import generate

async def serve() -> None:
    accounts = bench.accounts()
    async with run_simulator(bench._candles(), accounts, history_bars=10,
                             rate_limits=bench._limits()) as sim:
        end_ms = int(time.time() * 1000) - 60_000
        series = list(sim.exchange.series.values())
        total = 0
        for n, (account, (bot, _)) in enumerate(zip(accounts, bench.BOTS, strict=True)):
            total += generate(sim.exchange.engine, series, account.name, bot=bot,
                              end_ms=end_ms, days=90, seed=n,
                              actions_per_day=bench.ACTIONS).executions
        print(sim.base_url, total, flush=True)
        cpu = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        print(sim.exchange.rate_windows.refused, time.process_time() - cpu, flush=True)

asyncio.run(serve())
"""


def accounts() -> list[SimAccount]:
    return [SimAccount(f"BENCH{i:03d}", f"bench-secret-{i:03d}-0123456789",
                       name=f"acct{i}", balance=Decimal(1_000_000)) for i in range(1, 4)]


def _floor(by_endpoint: dict[str, int]) -> int:
    """Seconds the limits impose on one key's history requests at the least."""
    return max((math.ceil(by_endpoint.get(p, 0) / PER_SECOND) - 1 for p in HISTORY_PATHS),
               default=0)


async def main() -> None:
    from alphadesk.engine.sync import Syncer

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, str(HERE), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    base_url, generated = (await child.stdout.readline()).decode().split()
    with tempfile.TemporaryDirectory(prefix="alphadesk-bench-sync-") as folder:
        db = Path(folder) / "ledger.db"
        await asyncio.to_thread(migrate.upgrade, f"sqlite:///{db}")
        os.environ.update({"DATABASE_URL": f"sqlite:///{db}", "BYBIT_DEMO": "true",
                           "BYBIT_BASE_URL": base_url})
        os.environ.pop("REDIS_URL", None)
        for account, (_, prefix) in zip(accounts(), BOTS, strict=True):
            os.environ[f"{prefix}_BYBIT_API_KEY"] = account.key
            os.environ[f"{prefix}_BYBIT_API_SECRET"] = account.secret
        args = argparse.Namespace(months=3, bot=None, spool_dir=Path(folder) / "spool",
                                  namespace="")
        async with sync_command._desk(args) as desk:
            now = sync_command._venue_now(desk)
            syncer = Syncer(desk.recorder, desk.status)
            started, cpu = time.perf_counter(), time.process_time()
            totals = await syncer.backfill(desk.accounts,
                                           sync_command.months_back(now, 3), now)
            elapsed = time.perf_counter() - started
            client_cpu = time.process_time() - cpu
            pressures = [a.source.pressure() for a in desk.accounts]
    child.stdin.close()
    refused, sim_cpu = (await child.stdout.readline()).decode().split()
    await child.wait()
    if any(t.errors for t in totals):
        raise SystemExit(f"backfill failed: {[t.errors for t in totals]}")
    fetched = sum(t.fetched for t in totals)
    floor = max(_floor(dict(p.by_endpoint)) for p in pressures)
    requests = sum(p.requests for p in pressures)
    waits = sum(p.waits for p in pressures)
    print(f"accounts: 3, executions: {fetched} (generated {generated}), requests: {requests}, "
          f"rate-limit waits: {waits}, refused by the limits: {refused}, "
          f"elapsed: {elapsed:.2f} s, floor: {floor} s, CPU: client {client_cpu:.2f} s, "
          f"simulator {float(sim_cpu):.2f} s")
    print(f"backfill: {fetched / elapsed:.0f} executions/s")
    print(f"floor ratio: {elapsed / floor:.2f}" if floor else "floor ratio: n/a (no waits needed)")


if __name__ == "__main__":
    asyncio.run(main())
