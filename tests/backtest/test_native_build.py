"""Which build a test run exercises: ``ALPHADESK_NATIVE=1 ./scripts/test`` must really import the
mypyc-compiled hot path (scripts/build_native.py), and a plain run the pure-Python sources, so
that each of the two runs tests what it says it does."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from alphadesk.app.cli import main

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


def test_the_build_reports_what_it_imported() -> None:
    from alphadesk.backtest import build

    native = os.environ.get("ALPHADESK_NATIVE") == "1"
    assert build.compiled() is native
    assert build.described().startswith("native (mypyc" if native else "pure Python (")


def test_the_backtest_command_says_which_build_ran(
    market_csv: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A person comparing runs sees why one ran twice as fast as another: stderr names the build
    and, for the pure one, the script that compiles it."""
    data = str(market_csv("BTCUSDT_5m_bybit-perp-20250924-20251122"))
    argv = ["backtest", "--strategy", "ema_cross", "--data", data, "--to", "2025-09-26"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    if os.environ.get("ALPHADESK_NATIVE") == "1":
        assert "backtest: build: native (mypyc-compiled per-order path)" in err
    else:
        assert "backtest: build: pure Python (scripts/build_native.py compiles it" in err


SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_native.py"


def _build(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})}, check=False,
    )


def test_the_build_script_without_mypyc_says_what_to_install() -> None:
    """After ./scripts/demo alone the venv has no dev extra: the script says so, not a traceback."""
    ran = _build(
        "import runpy, sys; sys.modules['mypyc'] = None; sys.modules['mypyc.build'] = None; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    assert ran.returncode == 2, ran.stderr
    assert "native build: needs mypyc" in ran.stderr and "--extra dev" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_build_script_without_a_compiler_names_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-cc")
    ran = _build(f"import runpy; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')",
                 {"CC": missing})
    assert ran.returncode == 2, ran.stderr
    assert f"native build: no C compiler ({missing})" in ran.stderr
    assert "Traceback" not in ran.stderr
