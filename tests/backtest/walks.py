"""Seeded random-walk candles for the loop's jump tests: prices wander, and ``volume`` carries
flags a test strategy reads both per bar (``bar.volume``) and as wake masks (``columns``), so
its masks are exact by construction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.domain.instruments import Instrument

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a funding boundary
MIN5 = 300_000
HOUR = 3_600_000
BASE = 8.0
"""Every bar's volume is ``BASE + flags``: flags stay in the low bits."""


def rules(symbol: str) -> Instrument:
    return Instrument(symbol, Decimal("0.01"), Decimal("0.001"), Decimal("0.001"))


def walk(
    symbol: str,
    n: int,
    seed: int,
    flag_odds: Sequence[tuple[int, float]] = (),
    *,
    start: int = 0,
    gap: range = range(0),
) -> BarArrays:
    """``n`` five-minute bars from ``T0 + start`` bars, without the bars in ``gap`` (positions
    in the series); each ``(bit, p)`` of ``flag_odds`` is set on a bar with probability ``p``."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.003, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = np.abs(rng.normal(0.0, 0.0015, (2, n))) * close
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    flags = np.zeros(n, dtype=np.int64)
    for bit, p in flag_odds:
        flags |= np.where(rng.random(n) < p, bit, 0)
    ts = T0 + (start + np.arange(n, dtype=np.int64)) * MIN5
    keep = np.ones(n, dtype=bool)
    keep[list(gap)] = False
    return BarArrays(
        symbol, 5, ts[keep], open_[keep], high[keep], low[keep], close[keep],
        (BASE + flags)[keep].astype(np.float64),
    )  # fmt: skip
