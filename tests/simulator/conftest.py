"""Fixtures for the simulator tests: a running simulator on a free port and a signing client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from simulator_kit import BTC_5M, ETH_5M, MAIN, OTHER, WITHDRAWER, Client

from alphadesk.simulator import Simulator, run_simulator


@pytest.fixture
def btc_csv(market_csv: Callable[[str], Path]) -> Path:
    return market_csv(BTC_5M)


@pytest.fixture
def eth_csv(market_csv: Callable[[str], Path]) -> Path:
    return market_csv(ETH_5M)


@pytest_asyncio.fixture
async def sim(btc_csv: Path, eth_csv: Path) -> AsyncIterator[Simulator]:
    async with run_simulator([btc_csv, eth_csv], [MAIN, OTHER, WITHDRAWER],
                             history_bars=300) as running:
        yield running


@pytest_asyncio.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, sim.base_url)
