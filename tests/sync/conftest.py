"""Fixtures of the sync tests: the simulator with three accounts and three months of generated
history each, and a migrated SQLite ledger in the test's folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio
from sync_support import BTC_5M, ETH_5M, SyncSim, fill_history, sim_accounts

from alphadesk.adapters.storage import migrate
from alphadesk.simulator import RateLimits, run_simulator


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[SyncSim]:
    accounts = sim_accounts()
    async with run_simulator([market_csv(BTC_5M), market_csv(ETH_5M)], accounts,
                             history_bars=10) as s:
        yield SyncSim(s, accounts, fill_history(s, accounts))


@pytest_asyncio.fixture
async def slow_sim(market_csv: Callable[[str], Path]) -> AsyncIterator[SyncSim]:
    """Every private read enforced at 4 requests a second per key (refused with 10006 past
    it, as Bybit does): a backfill that takes several seconds, to be stopped half-way."""
    accounts = sim_accounts()
    limits = RateLimits(other_per_second=4, enforce_other=True)
    async with run_simulator([market_csv(BTC_5M), market_csv(ETH_5M)], accounts,
                             history_bars=10, rate_limits=limits) as s:
        yield SyncSim(s, accounts, fill_history(s, accounts))


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    await asyncio.to_thread(migrate.upgrade, f"sqlite:///{path}")
    return path
