"""Fixtures for the matching engine: real BTCUSDT/ETHUSDT rules from Bybit's instruments payload."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.instruments import Instrument

from .kit import T0, instrument_from_payload


@pytest.fixture(scope="session")
def instruments(bybit_payload: Callable[[str], Any]) -> dict[str, Instrument]:
    listing = bybit_payload("http_get_instruments_linear")["result"]["list"]
    return {item["symbol"]: instrument_from_payload(item) for item in listing}


@pytest.fixture
def make_engine(instruments: dict[str, Instrument]) -> Callable[..., MatchingEngine]:
    def make(balance: str = "10000", price: str | None = "50000", **config: Any) -> MatchingEngine:
        engine = MatchingEngine("backtest", instruments.values(), config=SimConfig(**config))
        engine.open_account("A", Decimal(balance))
        if price is not None:
            engine.on_price("BTCUSDT", Decimal(price), T0)
        return engine

    return make


@pytest.fixture
def engine(make_engine: Callable[..., MatchingEngine]) -> MatchingEngine:
    return make_engine()
