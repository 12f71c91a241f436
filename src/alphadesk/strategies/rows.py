"""The backtest's ``Row``: one reusable object pointed at bar ``i`` of a symbol's precomputed
columns (``features.FeatureTable`` makes them).

Apart from ``features`` so that the mypyc build (scripts/build_native.py) compiles it: strategies
read a few values through it on every call, and compiled, ``ind.prev(...)`` and ``ind.ema_fast``
are C calls instead of Python frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import FunctionType
from typing import Any

NAN = math.nan


class ArrayRow:
    """One reusable row over ``cols``; ``at(i)`` moves it to bar ``i`` (no new object per bar)."""

    __slots__ = ("_cols", "i")

    def __init__(self, cols: Mapping[str, Sequence[float]], i: int = 0) -> None:
        self._cols = cols
        self.i = i

    def at(self, i: int) -> ArrayRow:
        self.i = i
        return self

    def __getattr__(self, name: str) -> Any:  # a float; Any: mypyc's tp_getattro wrapper
        # (2.4) would hand on a float result unboxed, which does not compile
        try:
            return self._cols[name][self.i]
        except KeyError:
            raise AttributeError(f"no indicator named {name!r}") from None

    def __getitem__(self, name: str) -> float:
        return self._cols[name][self.i]

    def prev(self, name: str, n: int = 1) -> float:
        j = self.i - n
        return self._cols[name][j] if j >= 0 else NAN


def _compiled() -> bool:
    """Whether mypyc compiled this module: its methods are then C functions, not Python ones."""
    return not isinstance(ArrayRow.prev, FunctionType)


def row_type(cols: Mapping[str, Sequence[float]]) -> type[ArrayRow]:
    """The row class for ``cols``: interpreted, an ArrayRow subclass with one property per
    column, so ``ind.ema_fast`` is a property read instead of a failed attribute lookup falling
    back to ``__getattr__`` (several times cheaper, and strategies read a few values per call on
    every bar they are called on). Compiled, ArrayRow itself: it refuses interpreted subclasses,
    and its ``__getattr__`` is already a C function."""

    if _compiled():
        return ArrayRow

    def getter(values: Sequence[float]) -> property:
        return property(lambda row: values[row.i])

    reserved = set(dir(ArrayRow))
    namespace: dict[str, object] = {"__slots__": ()}
    for name, values in cols.items():
        if name.isidentifier() and name not in reserved:
            namespace[name] = getter(values)
    return type("ArrayRowOf", (ArrayRow,), namespace)
