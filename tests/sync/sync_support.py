"""Syncing three simulated accounts with three months of generated history, through the real
``alphadesk sync`` command in a child process."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk.simulator import SimAccount
from alphadesk.simulator.history_gen import GeneratedHistory, generate

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
ETH_5M = "ETHUSDT_5m_bybit-perp-20250924-20251122"
DAYS = 90
#: (bot id, settings prefix) of the desk's three bots, each with its own key.
BOTS = (("shortseller_001", "SHORTSELLER"), ("lxalgo_001", "LXALGO"),
        ("momentum_001", "MOMENTUM"))
#: The ledger's account label of each bot (the strategy name: see app.settings).
ACCOUNT = {"shortseller_001": "shortseller", "lxalgo_001": "lxalgo",
           "momentum_001": "momentum"}
LAUNCH = "import sys; from alphadesk.app.cli import main; sys.exit(main(sys.argv[1:]))"


def sim_accounts() -> list[SimAccount]:
    return [SimAccount(f"SYNC{i:04d}", f"sync-secret-{i:04d}-0123456789", name=f"acct{i}",
                       balance=Decimal(1_000_000)) for i in range(1, 4)]


def fill_history(sim: Any, accounts: list[SimAccount], *, seed: int = 7,
                 actions_per_day: float = 6.0) -> dict[str, GeneratedHistory]:
    """Three months for each account, ending at the real clock's now (the venue clock)."""
    end_ms = int(time.time() * 1000) - 60_000
    series = list(sim.exchange.series.values())
    made = {}
    for n, (account, (bot, _)) in enumerate(zip(accounts, BOTS, strict=True)):
        made[ACCOUNT[bot]] = generate(sim.exchange.engine, series, account.name, bot=bot,
                                      end_ms=end_ms, days=DAYS, seed=seed + n,
                                      actions_per_day=actions_per_day)
    return made


def sim_exec_ids(sim: Any, accounts: list[SimAccount]) -> dict[str, set[str]]:
    """Every execution the venue holds, per ledger account label."""
    out = {}
    for account, (bot, _) in zip(accounts, BOTS, strict=True):
        records = sim.exchange.engine._account(account.name).executions
        out[ACCOUNT[bot]] = {e.fill.exec_id for e in records}
    return out


def env_for(sim: Any, accounts: list[SimAccount], database_url: str, *,
            redis_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BYBIT_API_KEY")
           and not k.endswith("_BYBIT_API_SECRET") and k != "REDIS_URL"}
    env.update({"DATABASE_URL": database_url, "BYBIT_DEMO": "true",
                "BYBIT_BASE_URL": sim.base_url, "COLUMNS": "120"})
    if redis_url:
        env["REDIS_URL"] = redis_url
    for account, (_, prefix) in zip(accounts, BOTS, strict=True):
        env[f"{prefix}_BYBIT_API_KEY"] = account.key
        env[f"{prefix}_BYBIT_API_SECRET"] = account.secret
    return env


@dataclass(frozen=True)
class SyncSim:
    sim: Any
    accounts: list[SimAccount]
    generated: dict[str, GeneratedHistory]

    def env(self, database_url: str, *, redis_url: str | None = None) -> dict[str, str]:
        return env_for(self.sim, self.accounts, database_url, redis_url=redis_url)

    def exec_ids(self) -> dict[str, set[str]]:
        return sim_exec_ids(self.sim, self.accounts)


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


async def start_cli(env: Mapping[str, str], *args: str,
                    cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH, *args, env=dict(env), cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, within_s: float = 90) -> Done:
    out, err = await asyncio.wait_for(proc.communicate(), within_s)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


async def run_cli(env: Mapping[str, str], *args: str, cwd: Path) -> Done:
    return await finish(await start_cli(env, *args, cwd=cwd))


def ledger_rows(path: Path) -> list[tuple[str, str]]:
    """(account, exec_id) of every row of trading.fills and trading.funding."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute(
            "SELECT account, exec_id FROM fills UNION ALL SELECT account, exec_id FROM funding"))
    finally:
        conn.close()


def round_trip_rows(path: Path) -> list[sqlite3.Row]:
    """Every trading.completed_trades row, as stored (money as exact text)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(
            "SELECT bot_id, symbol, exit_time, net_pnl, gross_pnl, total_commission, funding, "
            "venue_closed_pnl, venue_pnl_diff FROM completed_trades"))
    finally:
        conn.close()


def funding_rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(bot_id, symbol, exec_time, commission) of every trading.funding row."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute("SELECT bot_id, symbol, exec_time, commission FROM funding"))
    finally:
        conn.close()


def sync_rows(path: Path) -> list[tuple[str, str, str, int]]:
    """(bot_id, sync_type, status, trades_synced) of every trading.sync_status row."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute(
            "SELECT bot_id, sync_type, status, trades_synced FROM sync_status ORDER BY id"))
    finally:
        conn.close()


def by_account(rows: list[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for account, exec_id in rows:
        out.setdefault(account, set()).add(exec_id)
    return out
