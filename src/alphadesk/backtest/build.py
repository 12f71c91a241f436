"""Which build of the per-order path this process runs: the mypyc-compiled one or pure Python.

The compiled build (``scripts/build_native.py``, then ``PYTHONPATH=build/native``) runs a
backtest about twice as fast and is opt-in, the pure-Python sources staying the default and the
fallback; so the commands made for a person say which one ran instead of leaving a slow run
unexplained.
"""

from __future__ import annotations

from alphadesk.adapters.sim import core

HINT = "scripts/build_native.py compiles it, about 2x faster: see the README's Benchmarks section"


def compiled() -> bool:
    """True when the matching engine's core was imported from a compiled extension module."""
    return not str(core.__file__).endswith(".py")


def described() -> str:
    """One line for a person: the build, and for the pure one how to get the compiled one."""
    if compiled():
        return "native (mypyc-compiled per-order path)"
    return f"pure Python ({HINT})"
