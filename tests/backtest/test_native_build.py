"""Which build a test run exercises: ``ALPHADESK_NATIVE=1 ./scripts/test`` must really import the
mypyc-compiled hot path (scripts/build_native.py), and a plain run the pure-Python sources, so
that each of the two runs tests what it says it does."""

from __future__ import annotations

import importlib
import os

import pytest

HOT = (
    "alphadesk.adapters.sim.core",
    "alphadesk.adapters.sim.engine",
    "alphadesk.adapters.sim.orders",
    "alphadesk.engine.router",
    "alphadesk.engine.portfolio",
    "alphadesk.backtest.runner",
    "alphadesk.backtest.slots",
    "alphadesk.backtest.jumps",
    "alphadesk.backtest.venue",
    "alphadesk.domain.decimals",
    "alphadesk.strategies.rows",
    "alphadesk.strategies.shortseller",
    "alphadesk.strategies.momentum",
    "alphadesk.strategies.ema_cross",
)


@pytest.mark.parametrize("name", HOT)
def test_the_run_imports_the_build_it_names(name: str) -> None:
    path = str(importlib.import_module(name).__file__)
    if os.environ.get("ALPHADESK_NATIVE") == "1":
        assert path.endswith(".so"), f"{name} is not compiled: {path}"
        assert "build/native" in path
    else:
        assert path.endswith(".py"), f"{name} is not the pure-Python source: {path}"
