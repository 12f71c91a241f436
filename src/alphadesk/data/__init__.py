"""Bundled market data, so ``alphadesk demo`` and first backtests need no download.

Real Bybit USDT-perpetual candles (see ``market/SOURCES.md``); the same files the tests use.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def market_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("market")))


def market_files(pattern: str = "*.csv") -> list[Path]:
    return sorted(market_dir().glob(pattern))
