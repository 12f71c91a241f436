"""The column-wise window forms give the very floats of the strided forms they replaced.

Backtest columns feed golden runs and the 1e-9 backtest/live agreement, so the faster forms in
``_rolling`` and ``percentile`` must not move a single bit. The previous code is kept here as the
reference and both are run on every bundled candle file and on random series with NaN, inf,
flat, zero and negative-zero stretches, at many window lengths and across block boundaries.
Equal means: NaN at the same places and the same 64 bits everywhere else (so -0.0 differs
from 0.0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from alphadesk import indicators as ta
from alphadesk.adapters.sim.feed import load_csv
from alphadesk.data import market_files
from alphadesk.indicators._rolling import (
    BLOCK_WINDOWS,
    PAIRWISE_BLOCKSIZE,
    row_chunks,
    sliding_mean,
    sliding_var,
    window_blocks,
    window_sums,
)
from alphadesk.indicators._types import FloatArray
from alphadesk.indicators.percentile import TIE_RTOL

PERIODS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 20, 24, 90, 127, 128, 129, 200)
RANK_WINDOWS = (2, 3, 20, 90, 256, 257, 300)

# --------------------------------------------------------------------------------------------
# The previous forms, verbatim


def reference_mean(values: FloatArray, period: int) -> FloatArray:
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        out[period - 1 :] = sliding_window_view(values, period).mean(axis=1)
    return out


def reference_var(values: FloatArray, period: int, ddof: int) -> FloatArray:
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    windows = sliding_window_view(values, period)
    body = out[period - 1 :]
    with np.errstate(invalid="ignore"):
        for rows in row_chunks(len(windows), period):
            deviations = windows[rows] - windows[rows, :1]
            deviations -= deviations.mean(axis=1, keepdims=True)
            body[rows] = np.einsum("ij,ij->i", deviations, deviations) / (period - ddof)
    return out


def reference_rank(series: FloatArray, window: int) -> FloatArray:
    out = np.full(len(series), np.nan)
    if len(series) < window:
        return out
    windows = sliding_window_view(series, window)
    body = out[window - 1 :]
    with np.errstate(invalid="ignore"):
        for rows in row_chunks(len(windows), window):
            block = windows[rows]
            newest = block[:, -1:]
            below = np.count_nonzero(block[:, :-1] < newest - TIE_RTOL * np.abs(newest), axis=1)
            ranks = below / (window - 1)
            ranks[np.isnan(block).any(axis=1)] = np.nan
            body[rows] = ranks
    return out


def reference_window_sums(block: FloatArray) -> FloatArray:
    """window_sums before it started its running sums with one addition instead of a copy."""
    count = len(block)
    total: FloatArray
    if count < 8:
        total = 0.0 + block[0]
        for i in range(1, count):
            total += block[i]
    else:
        sums = block[:8].copy()
        i = 8
        while i < count - count % 8:
            sums += block[i : i + 8]
            i += 8
        pairs = sums[0::2] + sums[1::2]
        halves = pairs[0::2] + pairs[1::2]
        total = halves[0] + halves[1]
        for j in range(i, count):
            total += block[j]
    total += 0.0
    return total


# --------------------------------------------------------------------------------------------


def assert_same_bits(actual: FloatArray, expected: FloatArray) -> None:
    assert actual.shape == expected.shape
    missing = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), missing)
    differ = np.flatnonzero(actual[~missing].view(np.int64) != expected[~missing].view(np.int64))
    assert differ.size == 0, (
        f"{differ.size} values differ, first {actual[~missing][differ[0]]!r} "
        f"!= {expected[~missing][differ[0]]!r}"
    )


def assert_all_forms_same(values: FloatArray) -> None:
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in the references' sums
        for period in PERIODS:
            assert_same_bits(sliding_mean(values, period), reference_mean(values, period))
            for ddof in (0, 1):
                if ddof < period:
                    expected = reference_var(values, period, ddof)
                    assert_same_bits(sliding_var(values, period, ddof), expected)
        for window in RANK_WINDOWS:
            expected = reference_rank(values, window)
            assert_same_bits(ta.rolling_percentile_rank(values, window), expected)


def candle_files() -> list[Path]:
    return [path for path in market_files() if "_funding_" not in path.name]


@pytest.mark.parametrize("path", candle_files(), ids=lambda path: path.name.rsplit("_", 1)[0])
def test_real_candles(path: Path) -> None:
    bars = load_csv(path)
    width = ta.bollinger(bars.close, 20, 2.0, 1).width
    for values in (bars.close, bars.volume, bars.high - bars.low, width):
        assert_all_forms_same(np.ascontiguousarray(values))


def awkward_series(rng: np.random.Generator, n: int) -> FloatArray:
    """A random walk at a random scale with flat runs, zeros, -0.0, NaN and infinities."""
    values = np.cumsum(rng.standard_normal(n)) * 10 ** rng.uniform(-4, 5) + rng.uniform(-1e3, 1e5)
    for _ in range(max(1, n // 300)):
        at, length = int(rng.integers(n)), int(rng.integers(1, 150))
        kind = int(rng.integers(7))
        if kind == 0:
            values[at : at + length] = values[at]
        elif kind == 1:
            values[at] = np.nan
        elif kind == 2:
            values[at] = np.inf
        elif kind == 3:
            values[at] = -np.inf
        elif kind == 4:
            values[at : at + length] = 0.0
        elif kind == 5:
            values[at : at + length] = -0.0
        else:
            values[at : at + length] = rng.standard_normal(min(length, n - at)) * 1e-300
    return values


@pytest.mark.parametrize("n", [1, 2, 19, 20, 21, 90, 500, BLOCK_WINDOWS + 19, BLOCK_WINDOWS + 20])
def test_random_series(n: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(3):
        assert_all_forms_same(awkward_series(rng, n))


def test_long_series_over_many_blocks() -> None:
    """Several blocks of windows, and past the references' chunk of rows."""
    rng = np.random.default_rng(17)
    values = awkward_series(rng, 60_000)  # 52,428 rows per chunk of the references at 20
    with np.errstate(invalid="ignore", over="ignore"):
        for period in (20, 90):
            assert_same_bits(sliding_mean(values, period), reference_mean(values, period))
            assert_same_bits(sliding_var(values, period, 1), reference_var(values, period, 1))
            expected = reference_rank(values, period)
            assert_same_bits(ta.rolling_percentile_rank(values, period), expected)


def test_strided_input() -> None:
    """A view with a stride (every other bar) reads the same values as its copy."""
    values = awkward_series(np.random.default_rng(3), 4000)[::2]
    assert_all_forms_same(values)


def test_window_sums_refuses_windows_it_does_not_copy() -> None:
    with pytest.raises(ValueError, match="at most 128"):
        window_sums(np.zeros((PAIRWISE_BLOCKSIZE + 1, 3)))


@pytest.mark.parametrize("path", candle_files()[:3], ids=lambda path: path.name.rsplit("_", 1)[0])
def test_window_sums_equal_the_copying_form(path: Path) -> None:
    """Every window length window_sums takes, on real closes and volumes and on awkward series
    (NaN, inf, zeros, -0.0, subnormals), over windows in blocks and over a strided view: the
    same 64 bits as the form that copied the first eight rows, and never the block it reads."""
    bars = load_csv(path)
    rng = np.random.default_rng(16)
    series = [
        np.ascontiguousarray(bars.close[:3000]),
        np.ascontiguousarray(bars.volume[:3000]),
        awkward_series(rng, 3000),
        awkward_series(rng, 6000)[::2],
        np.full(400, -0.0),
    ]
    with np.errstate(invalid="ignore", over="ignore"):
        for values in series:
            for count in range(1, PAIRWISE_BLOCKSIZE + 1):
                for _, block in window_blocks(values, count):
                    before = block.copy()
                    assert_same_bits(window_sums(block), reference_window_sums(block))
                    assert np.array_equal(block, before, equal_nan=True)
