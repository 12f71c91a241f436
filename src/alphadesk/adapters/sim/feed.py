"""Historical candles from the bundled CSVs (``ts_ms,open,high,low,close,volume``).

A backtest reads whole files, so the loader returns numpy columns (:class:`BarArrays`) and makes
domain :class:`Bar` objects only on request. Every row is checked (numbers, ``low <= open, close
<= high``, strictly increasing time): a bad file fails here naming the file and the row, instead
of producing a quietly wrong backtest.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from alphadesk.domain.bars import MINUTE_MS, Bar
from alphadesk.domain.errors import InvalidField

COLUMNS = ("ts_ms", "open", "high", "low", "close", "volume")
_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)_(?P<n>\d+)(?P<unit>[mhd])_")
_UNIT_MIN = {"m": 1, "h": 60, "d": 1440}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class FeedError(InvalidField):
    """A candle file that cannot be trusted; the message names the file and the row."""


@dataclass(frozen=True, slots=True)
class BarArrays:
    """One symbol's candles as columns; row ``i`` of each array is the same bar."""

    symbol: str
    interval_min: int
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return len(self.ts_ms)

    def bar(self, i: int) -> Bar:
        return Bar(
            self.symbol,
            self.interval_min,
            int(self.ts_ms[i]),
            float(self.open[i]),
            float(self.high[i]),
            float(self.low[i]),
            float(self.close[i]),
            float(self.volume[i]),
        )

    def bars(self) -> Iterator[Bar]:
        for i in range(len(self)):
            yield self.bar(i)


def parse_name(path: Path) -> tuple[str, int]:
    """``BTCUSDT_5m_...csv`` -> ("BTCUSDT", 5)."""
    m = _NAME.match(path.name)
    if m is None:
        raise FeedError("file", str(path), "name must start with SYMBOL_<n><m|h|d>_")
    return m["symbol"], int(m["n"]) * _UNIT_MIN[m["unit"]]


def load_csv(
    path: str | Path, symbol: str | None = None, interval_min: int | None = None
) -> BarArrays:
    """Read and check a candle CSV; symbol and interval default to what the file name says."""
    path = Path(path)
    if symbol is None or interval_min is None:
        named_symbol, named_interval = parse_name(path)
        symbol = symbol or named_symbol
        interval_min = interval_min or named_interval
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise FeedError("file", str(path), f"cannot be read: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise FeedError(f"{path} row 1", header, f"header must be {','.join(COLUMNS)}")
        rows = list(reader)
    ts = np.empty(len(rows), dtype=np.int64)
    cols = np.empty((len(rows), 5), dtype=np.float64)
    for i, row in enumerate(rows):
        line = i + 2
        if len(row) != 6:
            raise FeedError(f"{path} row {line}", row, "must have 6 columns")
        try:
            ts[i] = int(row[0])
            cols[i] = [float(v) for v in row[1:]]
        except ValueError:
            raise FeedError(f"{path} row {line}", row, "has a value that is not a number") from None
    _check(path, ts, cols, interval_min)
    return BarArrays(
        symbol, interval_min, ts, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3], cols[:, 4]
    )


def _check(path: Path, ts: IntArray, cols: FloatArray, interval_min: int) -> None:
    def fail(i: int, reason: str) -> FeedError:
        return FeedError(f"{path} row {i + 2}", [int(ts[i]), *cols[i].tolist()], reason)

    if not np.isfinite(cols).all():
        raise fail(int(np.argmin(np.isfinite(cols).all(axis=1))), "has a non-finite value")
    o, h, lo, c, v = cols.T
    bad = (lo > np.minimum(o, c)) | (h < np.maximum(o, c)) | (lo <= 0) | (v < 0)
    if bad.any():
        raise fail(int(np.argmax(bad)), "needs 0 < low <= open, close <= high and volume >= 0")
    if len(ts):
        if ts[0] < 0:
            raise fail(0, "time must be epoch ms >= 0")
        steps = np.diff(ts)
        if (steps <= 0).any():
            raise fail(int(np.argmax(steps <= 0)) + 1, "time is not strictly increasing")
        off_grid = ts % (interval_min * MINUTE_MS) != 0
        if off_grid.any() and interval_min <= 1440:
            raise fail(int(np.argmax(off_grid)), f"time is not on the {interval_min} min grid")
