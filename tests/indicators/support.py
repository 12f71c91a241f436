"""Shared by the indicator tests: real candles, the live replay, and the agreement check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from alphadesk.indicators._types import FloatArray


class Candles(NamedTuple):
    name: str
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


def load_candles(path: Path) -> Candles:
    with path.open() as handle:
        header = handle.readline().strip().split(",")
    assert header == ["ts_ms", "open", "high", "low", "close", "volume"], header
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return Candles(path.name, *(np.ascontiguousarray(table[:, i]) for i in range(1, 6)))


def run_live(indicator: Any, *columns: FloatArray) -> FloatArray:
    """Feed one bar at a time through ``update``; ``None`` becomes NaN.

    Also checks on every bar that ``value`` reports what ``update`` just returned.
    """
    out = np.full(len(columns[0]), np.nan)
    for i, bar in enumerate(zip(*(column.tolist() for column in columns), strict=True)):
        result = indicator.update(*bar)
        assert indicator.value == result or (
            result != result and indicator.value != indicator.value
        )
        if result is not None:
            out[i] = result
    return out


def first_valid_index(values: FloatArray) -> int:
    hits = np.flatnonzero(~np.isnan(values))
    return int(hits[0]) if hits.size else len(values)


def scaled_error(actual: FloatArray, expected: FloatArray) -> FloatArray:
    """|actual − expected| / max(1, |expected|): absolute for values up to 1, relative above.

    Equal values (infinities included) count as 0; callers check NaN positions separately.
    """
    equal = actual == expected
    error = np.zeros(len(expected))
    rest = ~equal & ~np.isnan(expected)
    error[rest] = np.abs(actual[rest] - expected[rest]) / np.maximum(1.0, np.abs(expected[rest]))
    return error


def assert_agree(actual: FloatArray, expected: FloatArray, tol: float, label: str = "") -> None:
    """Same warm-up (NaN) positions, and every other value within ``tol`` scaled error."""
    assert actual.shape == expected.shape, (label, actual.shape, expected.shape)
    nan_mismatch = np.flatnonzero(np.isnan(actual) != np.isnan(expected))
    assert nan_mismatch.size == 0, f"{label}: NaN positions differ first at {nan_mismatch[:5]}"
    error = scaled_error(actual, expected)
    worst = int(np.argmax(error)) if error.size else 0
    assert not error.size or error[worst] <= tol, (
        f"{label}: scaled error {error[worst]:.3e} > {tol:.0e} at bar {worst}: "
        f"{actual[worst]!r} vs {expected[worst]!r}"
    )
