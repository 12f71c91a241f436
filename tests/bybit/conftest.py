"""Fixtures that run the Bybit adapter over real sockets against the in-process simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from alphadesk import simulator
from alphadesk.adapters.bybit import BybitClient
from alphadesk.simulator.candles import load_candles

from .simkit import BTC_5M, FAST, KEY, RISKY_KEY, RISKY_SECRET, SECRET, account_config


@pytest.fixture(scope="session")
def btc_series(market_csv: Callable[[str], Path]) -> Any:
    return load_candles(market_csv(BTC_5M))


@pytest_asyncio.fixture
async def sim(btc_series: Any) -> AsyncIterator[Any]:
    accounts = [
        simulator.SimAccount(KEY, SECRET, name="shortseller"),
        simulator.SimAccount(RISKY_KEY, RISKY_SECRET, name="risky", withdraw=True),
    ]
    async with simulator.run_simulator([btc_series], accounts, history_bars=3000) as running:
        yield running


@pytest_asyncio.fixture
async def client(sim: Any) -> AsyncIterator[BybitClient]:
    """A client with its clock synced. The key check is exercised in its own tests, because the
    simulator gives every key Wallet transfer permissions (which the desk refuses)."""
    bybit = BybitClient(account_config(sim), policy=FAST)
    await bybit.rest.sync_clock()
    try:
        yield bybit
    finally:
        await bybit.close()
