"""The bybit package's names load on first use, so a backtest never imports ccxt or aiohttp.

A backtest reads instrument rules through the package's wire types; when the package's
``__init__`` imported the client eagerly, every backtest and sweep worker paid ccxt's and
aiohttp's import (about 2 s of CPU) for nothing.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import alphadesk.adapters.bybit as bybit


def test_backtest_imports_leave_the_exchange_client_unloaded() -> None:
    probe = (
        "import sys\n"
        "import alphadesk.backtest.data, alphadesk.backtest.runner\n"
        "print(sorted(m for m in ('ccxt', 'aiohttp', 'alphadesk.adapters.bybit.client')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("name", bybit.__all__)
def test_every_exported_name_is_the_defining_modules_object(name: str) -> None:
    home = importlib.import_module(f"alphadesk.adapters.bybit.{bybit._HOME[name]}")
    assert getattr(bybit, name) is getattr(home, name)


def test_exports_and_their_homes_agree() -> None:
    assert sorted(bybit.__all__) == sorted(bybit._HOME)
    assert set(bybit.__all__) <= set(dir(bybit))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'alphadesk.adapters.bybit' has no attribute 'Nope'"):
        _ = bybit.Nope  # type: ignore[attr-defined]
