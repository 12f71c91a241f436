"""Shared helpers for the strategy tests: real candles loaded once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alphadesk.domain.bars import Bar
from alphadesk.testing.strategy_harness import load_bars

FIVE_MIN = "{symbol}_5m_bybit-perp-20250924-20251122"
FOUR_HOUR = "{symbol}_4h_bybit-perp-20250924-20260721"


@pytest.fixture(scope="session")
def bars_5m(market_csv: Callable[[str], Path]) -> Callable[[str], list[Bar]]:
    cache: dict[str, list[Bar]] = {}

    def load(symbol: str) -> list[Bar]:
        if symbol not in cache:
            cache[symbol] = load_bars(market_csv(FIVE_MIN.format(symbol=symbol)), symbol, 5)
        return cache[symbol]

    return load


@pytest.fixture(scope="session")
def bars_4h(market_files: Callable[[str], list[Path]]) -> dict[str, list[Bar]]:
    out: dict[str, list[Bar]] = {}
    for path in market_files("*_4h_bybit-perp-*.csv"):
        symbol = path.name.split("_")[0]
        out[symbol] = load_bars(path, symbol, 240)
    assert len(out) >= 5
    return out
