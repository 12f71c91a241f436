"""The loop's columns (``backtest.slots.floats``/``ints``) are views of the bars, not copies: each
read gives what the former ``array('d')``/``array('q')`` copy gave, bit for bit, and the same
length and bisection."""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_left
from typing import Any

import numpy as np
import pytest

from alphadesk.backtest.slots import floats, ints


def _old_floats(values: Any) -> array[float]:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float64).data.cast("B"))
    return out


def _old_ints(values: Any) -> array[int]:
    out = array("q")
    out.frombytes(np.ascontiguousarray(values, dtype=np.int64).data.cast("B"))
    return out


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


_SPECIAL = [0.0, -0.0, 1.5, -2.25, float("inf"), -float("inf"), float("nan"), 5e-324, 1e308]
_FLOATS = [
    np.array(_SPECIAL),
    np.linspace(-1e6, 1e6, 1001),
    np.arange(100, dtype=np.float64)[::3],  # strided
    np.arange(50, dtype=np.float64)[::-1],  # reversed
    np.arange(20, dtype=np.float32) / 7,  # another dtype: converted
    np.arange(20, dtype=np.int64),
    np.array([], dtype=np.float64),
]
_INTS = [
    np.arange(-5, 1000, 7, dtype=np.int64),
    np.array([-1, 0, 2**62, -(2**63), 2**63 - 1], dtype=np.int64),
    np.arange(100, dtype=np.int64)[::4],
    np.arange(30, dtype=np.int32),
    np.array([], dtype=np.int64),
]


@pytest.mark.parametrize("values", _FLOATS, ids=range(len(_FLOATS)))
def test_floats_read_as_the_copy_did(values: Any) -> None:
    got, old = floats(values), _old_floats(values)
    assert len(got) == len(old)
    for i in range(len(old)):
        assert type(got[i]) is float
        assert _bits(got[i]) == _bits(old[i])
    for i in (-1, -len(old)) if len(old) else ():
        assert _bits(got[i]) == _bits(old[i])


@pytest.mark.parametrize("values", _INTS, ids=range(len(_INTS)))
def test_ints_read_as_the_copy_did(values: Any) -> None:
    got, old = ints(values), _old_ints(values)
    assert len(got) == len(old)
    assert [type(x) for x in got] == [int] * len(old)
    assert list(got) == list(old)
    if len(old) and list(old) == sorted(old):
        for probe in (-(2**63), -6, -5, 0, 3, 500, 995, 996, 10**6, 2**63 - 1):
            assert bisect_left(got, probe) == bisect_left(old, probe)
            assert bisect_left(got, probe, 1) == bisect_left(old, probe, 1)


def test_an_index_out_of_range_is_refused_as_before() -> None:
    values = np.arange(3, dtype=np.float64)
    with pytest.raises(IndexError):
        _old_floats(values)[3]
    with pytest.raises(IndexError):
        floats(values)[3]


def test_the_bars_are_read_in_place() -> None:
    """No copy of a column already contiguous in the right type (the point of the change)."""
    closes, times = np.linspace(1.0, 2.0, 10), np.arange(10, dtype=np.int64)
    column: Any = floats(closes)
    stamps: Any = ints(times)
    assert column.obj is closes
    assert stamps.obj is times
