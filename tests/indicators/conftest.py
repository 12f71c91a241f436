"""Real candles for the indicator tests.

Files are found by the project's ``market_csv`` fixture (tests/conftest.py): the candles the
package ships, then tests/fixtures/market/; a missing file fails the test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import Candles, load_candles

# A long 5-minute file (the live strategies' bar), a 4-hour file (Momentum's bar) and a 2022
# 1-minute file with a different regime and a few bars where high == low.
CANDLE_FILES = {
    "btc-5m": "BTCUSDT_5m_bybit-perp-20250924-20251122.csv",
    "eth-4h": "ETHUSDT_4h_bybit-perp-20250924-20260721.csv",
    "btc-1m-2022": "BTCUSDT_1m_btc-perp-2022-01.csv",
}

_load = functools.cache(load_candles)  # each file is parsed once per session


@pytest.fixture(params=sorted(CANDLE_FILES))
def candles(request: pytest.FixtureRequest, market_csv: Callable[[str], Path]) -> Candles:
    return _load(market_csv(CANDLE_FILES[request.param]))


@pytest.fixture
def btc_5m(market_csv: Callable[[str], Path]) -> Candles:
    return _load(market_csv(CANDLE_FILES["btc-5m"]))
