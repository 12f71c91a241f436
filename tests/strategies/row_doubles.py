"""A ``Row`` over columns that is not the backtest's ``ArrayRow`` (a harness's, say), for the
tests that pin a strategy's direct ``ArrayRow`` reads to the protocol's reads."""

from __future__ import annotations

import math
import struct
from array import array


class DictRow:
    """Reads ``cols`` at bar ``i`` through the ``Row`` protocol; NaN before the first bar."""

    def __init__(self, cols: dict[str, array[float]], i: int) -> None:
        self.cols, self.i = cols, i

    def __getattr__(self, name: str) -> float:
        return self.cols[name][self.i]

    def __getitem__(self, name: str) -> float:
        return self.cols[name][self.i]

    def prev(self, name: str, n: int = 1) -> float:
        return self.cols[name][self.i - n] if self.i >= n else math.nan


def bits(values: tuple[float, ...]) -> bytes:
    """The floats' 64 bits each: equal only when every value is the same (NaN, -0.0 too)."""
    return struct.pack(f"{len(values)}d", *values)
