"""Compile the per-order hot path with mypyc into ``build/native`` (issue 17, item 2).

The pure-Python package under ``src/`` stays what is installed and imported by default, and the
fallback whenever no compiler is around. This script copies it to ``build/native/alphadesk`` and
compiles the modules in :data:`MODULES` there, in place, so a run opts in by putting that folder
first on the path::

    .venv/bin/python scripts/build_native.py            # about 30-60 s on two cores
    PYTHONPATH=build/native .venv/bin/alphadesk backtest ...
    ALPHADESK_NATIVE=1 ./scripts/test tests/backtest    # the tests against the compiled build

The copy is rebuilt from scratch every time (never stale against ``src/``). Listed are modules
whose classes no interpreted code subclasses (an interpreted subclass of a compiled class is
refused when instantiated); the one exception, the matching engine probed by
tests/sim/test_shortcut_equivalence.py, skips that module on this build. The per-order domain
values (bars, positions, fills, requests, intents) are compiled: ``domain/native_init.py`` wraps
their constructors so a wrong type is still refused naming the field (compiled, a native field
refuses it with mypyc's TypeError before the class's own checks run), and gives them copying.
Left out on purpose: the other frozen domain values (``Instrument``'s rounding arithmetic lives in
the compiled ``domain.grid`` instead, for the per-order callers), the
strategy context (tests and the harness subclass it; a test that needs a different venue wraps
the backtest's instead), and the Bybit simulator's records (a generic dataclass mypyc cannot
build).

The built-in strategies are compiled (their per-bar rules were a third of a shortseller run
interpreted): a compiled class may derive from the interpreted ``strategies.api.Strategy``, which
stays interpreted because tests and users subclass it (so do its helpers' homes: ``holds`` and
``entry_time`` live in ``strategies.portfolio_reads``, ``to_decimal`` in ``domain.decimals``, so
the compiled code calls them directly). Their params dataclasses live in the interpreted
``strategies.builtin_params``, so a wrong parameter is refused naming it by their own checks
without a wrapper (they are made once per run). ``strategies.rows`` (the
backtest's ``Row``) is compiled whole: its ``__getattr__`` and ``prev`` become C calls, and since a
compiled ArrayRow refuses the per-column interpreted subclass the pure build makes, it is used
as is. Left interpreted: ``features`` (numpy calls, little Python per bar), ``catalog``,
``params`` and ``specs`` (run once per backtest). Needs gcc, the Python headers
and ``setuptools`` (dev extra). Compiled functions check argument types on entry, so a wrong type
there raises mypyc's TypeError rather than the field-naming error of the pure build: the backtest,
which feeds the engine only values it made, is what this build is for.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import NoReturn

MODULES = [
    "alphadesk/domain/allocation.py",
    "alphadesk/domain/bars.py",
    "alphadesk/domain/checks.py",
    "alphadesk/domain/decimals.py",
    "alphadesk/domain/epoch.py",
    "alphadesk/domain/fills.py",
    "alphadesk/domain/grid.py",
    "alphadesk/domain/intents.py",
    "alphadesk/domain/order_link.py",
    "alphadesk/domain/pnl.py",
    "alphadesk/domain/positions.py",
    "alphadesk/domain/requests.py",
    "alphadesk/adapters/sim/accounts.py",
    "alphadesk/adapters/sim/core.py",
    "alphadesk/adapters/sim/engine.py",
    "alphadesk/adapters/sim/funding.py",
    "alphadesk/adapters/sim/funding_desk.py",
    "alphadesk/adapters/sim/matcher.py",
    "alphadesk/adapters/sim/orders.py",
    "alphadesk/adapters/sim/plain_request.py",
    "alphadesk/adapters/sim/pricing.py",
    "alphadesk/adapters/sim/queries.py",
    "alphadesk/adapters/sim/state.py",
    "alphadesk/engine/inflight.py",
    "alphadesk/engine/links.py",
    "alphadesk/engine/portfolio.py",
    "alphadesk/engine/risk.py",
    "alphadesk/engine/router.py",
    "alphadesk/engine/runner.py",
    "alphadesk/engine/trading_state.py",
    "alphadesk/backtest/jumps.py",
    "alphadesk/backtest/runner.py",
    "alphadesk/backtest/slots.py",
    "alphadesk/backtest/venue.py",
    "alphadesk/strategies/drawdown.py",
    "alphadesk/strategies/ema_cross.py",
    "alphadesk/strategies/lxalgo.py",
    "alphadesk/strategies/momentum.py",
    "alphadesk/strategies/periods.py",
    "alphadesk/strategies/portfolio_reads.py",
    "alphadesk/strategies/protection.py",
    "alphadesk/strategies/rows.py",
    "alphadesk/strategies/shortseller.py",
]


def _compiler() -> str | None:
    """The C compiler setuptools will call ($CC, else the one Python was built with), when it
    is on this machine; None when not."""
    import sysconfig

    command = os.environ.get("CC") or str(sysconfig.get_config_var("CC") or "cc")
    name = command.split()[0] if command.split() else ""
    return shutil.which(name) if name else None


def _refuse(why: str) -> NoReturn:
    print(f"native build: {why}; the pure-Python build under src/ still works", file=sys.stderr)
    raise SystemExit(2)


def main() -> None:
    try:
        from mypyc.build import mypycify  # dev extra: mypy ships mypyc
        from setuptools import setup
    except ImportError as exc:
        _refuse(
            f"needs {exc.name or 'mypyc'} from the dev extra (`uv sync --frozen --extra dev`, "
            "which ./scripts/test runs; ./scripts/demo installs the runtime packages only)"
        )
    if _compiler() is None:
        cc = os.environ.get("CC") or "the C compiler Python was built with"
        _refuse(f"no C compiler ({cc}) on this machine: install gcc and the Python headers")

    root = Path(__file__).resolve().parents[1]
    out = root / "build" / "native"
    started = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(
        root / "src" / "alphadesk",
        out / "alphadesk",
        ignore=shutil.ignore_patterns("__pycache__", "*.so"),
    )
    os.chdir(out)
    os.environ["MYPYPATH"] = str(out)
    setup(
        name="alphadesk-native",
        ext_modules=mypycify(MODULES, opt_level="3", target_dir=str(out / "_c")),
        script_args=["build_ext", "--inplace", "--build-temp", str(out / "_o"), "--parallel", "2"],
    )
    shutil.rmtree(out / "_c", ignore_errors=True)
    shutil.rmtree(out / "_o", ignore_errors=True)
    shutil.rmtree(out / "build", ignore_errors=True)
    print(
        f"native build: {len(MODULES)} modules in {time.perf_counter() - started:.0f} s -> {out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
