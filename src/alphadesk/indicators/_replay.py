"""Vectorised forms of the recursive indicators: replay the live step over whole arrays.

EMA, RSI, ATR and ADX are recurrences (each value needs the previous one), so numpy has no
closed form for them that stays accurate over a long series. Replaying the very step the live
class runs costs about a microsecond per bar in CPython, and makes "backtest and live agree"
true by construction rather than by testing two implementations against each other.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alphadesk.indicators._types import FloatArray


def first_valid(*arrays: FloatArray) -> int:
    """Index of the first bar where every input is a number (the arrays' length if none is).

    Recursive indicators start there, as the TA-Lib Python wrapper does, so an indicator of an
    indicator (an EMA of an RSI) works instead of inheriting the upstream warm-up NaNs forever.
    """
    valid = np.ones(len(arrays[0]), dtype=np.bool_)
    for array in arrays:
        valid &= ~np.isnan(array)
    hits = np.flatnonzero(valid)
    return int(hits[0]) if hits.size else len(valid)


def replay(step: Callable[..., float | None], *series: FloatArray) -> FloatArray:
    """Feed bar ``i`` of every series to ``step``; ``None`` (warm-up) becomes NaN."""
    out = np.full(len(series[0]), np.nan)
    start = first_valid(*series)
    columns = [array[start:].tolist() for array in series]
    out[start:] = [np.nan if r is None else r for r in map(step, *columns)]
    return out
