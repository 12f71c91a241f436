"""The pure bar-series checks: interval inference, holes, repeats and resampling."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphadesk.analytics.bar_series import (
    Hole,
    duplicates,
    gaps,
    infer_interval_min,
    resample,
)
from alphadesk.app.commands.data import parse_interval

M5 = 300_000


def test_the_interval_is_the_commonest_step_so_holes_do_not_fool_it() -> None:
    ts = np.array([0, 1, 2, 5, 6, 7, 20], dtype=np.int64) * M5
    assert infer_interval_min(ts) == 5
    assert gaps(ts, 5) == [Hole(2 * M5, 5 * M5, 2), Hole(7 * M5, 20 * M5, 12)]
    assert infer_interval_min(np.array([M5], dtype=np.int64)) is None
    assert infer_interval_min(np.array([0, 1500, 3000], dtype=np.int64)) is None  # not minutes


def test_repeats_are_the_later_rows_of_a_time() -> None:
    ts = np.array([0, 1, 1, 2, 0, 3], dtype=np.int64) * M5
    assert duplicates(ts).tolist() == [2, 4]


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 200),
    n=st.integers(1, 300),
    per=st.sampled_from([2, 3, 12, 48]),
    seed=st.integers(0, 2**16),
)
def test_resampling_agrees_with_a_plain_group_by(start: int, n: int, per: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts = (np.arange(start, start + n, dtype=np.int64)) * M5
    o = rng.uniform(90, 110, n)
    c = rng.uniform(90, 110, n)
    h = np.maximum(o, c) + rng.uniform(0, 2, n)
    lo = np.minimum(o, c) - rng.uniform(0, 2, n)
    v = rng.uniform(0, 5, n)
    r = resample(ts, o, h, lo, c, v, 5, 5 * per)
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(ts.tolist()):
        groups.setdefault(t // (5 * per * 60_000), []).append(i)
    full = [(b, rows) for b, rows in sorted(groups.items()) if len(rows) == per]
    assert r.ts_ms.tolist() == [b * 5 * per * 60_000 for b, _ in full]
    for k, (_, rows) in enumerate(full):
        assert r.open[k] == o[rows[0]] and r.close[k] == c[rows[-1]]
        assert r.high[k] == h[rows].max() and r.low[k] == lo[rows].min()
        assert r.volume[k] == pytest.approx(v[rows].sum())
    edges = [rows for _, rows in sorted(groups.items())]
    assert r.dropped_head == (len(edges[0]) if len(edges[0]) < per else 0)
    last = edges[-1] if len(edges) > 1 or len(edges[0]) == per else []
    assert r.dropped_tail == (len(last) if last and len(last) < per else 0)


def test_intervals_on_the_command_line() -> None:
    assert [parse_interval(x) for x in ("5m", "4h", "1d", "240", "D", "W", "1w")] == [
        5, 240, 1440, 240, 1440, 10080, 10080]
    for bad in ("7m", "M", "1M", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_interval(bad)
