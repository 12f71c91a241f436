"""Reading and writing candle and funding files (Parquet or CSV), leniently checked.

Reading checks every value (numbers, finite, ``0 < low <= open, close <= high``, volume >= 0) and
names the file and row of a bad one, but leaves order, repeats and holes to the caller: the
backtest loader reports those with counts and positions instead of refusing the file outright.
Writes are atomic (a temporary file renamed over the old one), so a download stopped at any
instant leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from alphadesk.domain.errors import InvalidField

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CANDLE_COLUMNS = ("ts_ms", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS = ("ts_ms", "funding_rate")
SOURCE = "bybit"
_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)_(?:(?P<n>\d+)(?P<unit>[mhdw])_)?", re.IGNORECASE)
_UNIT_MIN = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_FUNDING = re.compile(r"funding", re.IGNORECASE)


class DataFileError(InvalidField):
    """A market-data file that cannot be trusted; the field names the file and the row."""


def interval_label(minutes: int) -> str:
    """240 -> ``4h``, 5 -> ``5m``, 1440 -> ``1d``, 10080 -> ``1w``."""
    if minutes % 10080 == 0:
        return f"{minutes // 10080}w"
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def candle_name(symbol: str, interval_min: int) -> str:
    return f"{symbol}_{interval_label(interval_min)}_{SOURCE}.parquet"


def funding_name(symbol: str) -> str:
    return f"{symbol}_funding_{SOURCE}.parquet"


def is_funding_file(path: Path) -> bool:
    return _FUNDING.search(path.name) is not None


def name_parts(path: Path) -> tuple[str, int | None]:
    """``BTCUSDT_5m_...`` -> ("BTCUSDT", 5); the interval is None when the name has none."""
    m = _NAME.match(path.name)
    if m is None:
        stem = path.name.split(".", 1)[0]
        if not stem.isalnum():
            raise DataFileError("file", str(path), "name must start with SYMBOL_")
        return stem.upper(), None
    if m["n"] is None:
        return m["symbol"].upper(), None
    return m["symbol"].upper(), int(m["n"]) * _UNIT_MIN[m["unit"].lower()]


@dataclass(frozen=True, slots=True)
class RawCandles:
    """A file's rows as they are (maybe unsorted, repeated or with holes), columns checked."""

    path: Path
    symbol: str
    named_interval_min: int | None
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return len(self.ts_ms)


def read_candles(path: str | Path) -> RawCandles:
    path = Path(path)
    symbol, named = name_parts(path)
    if path.suffix.lower() == ".parquet":
        ts, cols = _read_parquet(path, CANDLE_COLUMNS)
    else:
        ts, cols = _read_csv(path, CANDLE_COLUMNS)
    _check_candles(path, ts, cols)
    return RawCandles(path, symbol, named, ts, *(cols[:, i].copy() for i in range(5)))


@dataclass(frozen=True, slots=True)
class FundingHistory:
    """One symbol's funding settlements: epoch-ms times (sorted, distinct) and exact rates."""

    symbol: str
    ts_ms: tuple[int, ...]
    rates: tuple[Decimal, ...]
    sources: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ts_ms)

    def as_map(self) -> dict[int, Decimal]:
        return dict(zip(self.ts_ms, self.rates, strict=True))

    def covers(self, start_ms: int, end_ms: int, interval_ms: int = 8 * 3_600_000) -> bool:
        """Whether it settles within one interval of the period's start and of its end."""
        return bool(self.ts_ms) and self.ts_ms[0] <= start_ms + interval_ms and (
            self.ts_ms[-1] >= end_ms - interval_ms
        )


def read_funding(paths: list[Path], symbol: str) -> FundingHistory:
    """Merge funding files (Parquet or CSV ``ts_ms,funding_rate``); a later file wins a tie."""
    merged: dict[int, Decimal] = {}
    for path in paths:
        if path.suffix.lower() == ".parquet":
            ts, cols = _read_parquet(path, FUNDING_COLUMNS)
        else:
            ts, cols = _read_csv(path, FUNDING_COLUMNS)
        if not np.isfinite(cols).all():
            row = int(np.argmin(np.isfinite(cols).all(axis=1)))
            raise DataFileError(f"{path} row {row + 2}", cols[row].tolist(), "is not finite")
        for t, rate in zip(ts.tolist(), cols[:, 0].tolist(), strict=True):
            merged[int(t)] = Decimal(repr(rate))  # the shortest decimal the float stands for
    times = tuple(sorted(merged))
    return FundingHistory(
        symbol, times, tuple(merged[t] for t in times), tuple(str(p) for p in paths)
    )


def funding_beside(candle_path: Path, symbol: str) -> list[Path]:
    """Funding files for ``symbol`` in the candle file's folder, by name, sorted."""
    folder = candle_path.parent
    found = [
        p for p in folder.glob(f"{symbol}_*")
        if is_funding_file(p) and p.suffix.lower() in (".csv", ".parquet")
    ]
    return sorted(found)


# -- writing -------------------------------------------------------------------------------------


def write_candles(path: Path, ts: IntArray, cols: FloatArray) -> None:
    """Write sorted candles; rows with a repeated time keep the last one given."""
    order = np.argsort(ts, kind="stable")
    ts, cols = ts[order], cols[order]
    if len(ts) > 1:
        keep = np.r_[ts[1:] != ts[:-1], True]
        ts, cols = ts[keep], cols[keep]
    table = pa.table(
        {"ts_ms": pa.array(ts, pa.int64()),
         **{name: pa.array(cols[:, i], pa.float64()) for i, name in enumerate(CANDLE_COLUMNS[1:])}}
    )
    _atomic_parquet(path, table)


def write_funding(path: Path, history: dict[int, Decimal]) -> None:
    times = sorted(history)
    table = pa.table(
        {"ts_ms": pa.array(times, pa.int64()),
         "funding_rate": pa.array([float(history[t]) for t in times], pa.float64())}
    )
    _atomic_parquet(path, table)


def _atomic_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


# -- internals -----------------------------------------------------------------------------------


def _read_parquet(path: Path, columns: tuple[str, ...]) -> tuple[IntArray, FloatArray]:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataFileError("file", str(path), f"cannot be read as Parquet: {exc}") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DataFileError(str(path), table.column_names, f"lacks columns {missing}")
    try:
        ts = np.asarray(table.column("ts_ms").to_numpy(), dtype=np.int64)
        cols = np.column_stack(
            [np.asarray(table.column(c).to_numpy(), dtype=np.float64) for c in columns[1:]]
        ) if len(table) else np.empty((0, len(columns) - 1))
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise DataFileError(str(path), columns, f"has a non-numeric column: {exc}") from None
    return ts, cols


def _read_csv(path: Path, columns: tuple[str, ...]) -> tuple[IntArray, FloatArray]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataFileError("file", str(path), f"cannot be read: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != columns:
            raise DataFileError(f"{path} row 1", header, f"header must be {','.join(columns)}")
        rows = [row for row in reader if row]
    width = len(columns)
    ts = np.empty(len(rows), dtype=np.int64)
    cols = np.empty((len(rows), width - 1), dtype=np.float64)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataFileError(f"{path} row {i + 2}", row, f"must have {width} columns")
        try:
            ts[i] = int(row[0])
            cols[i] = [float(v) for v in row[1:]]
        except ValueError:
            raise DataFileError(
                f"{path} row {i + 2}", row, "has a value that is not a number"
            ) from None
    return ts, cols


def _check_candles(path: Path, ts: IntArray, cols: FloatArray) -> None:
    def fail(i: int, reason: str) -> DataFileError:
        return DataFileError(f"{path} row {i + 2}", [int(ts[i]), *cols[i].tolist()], reason)

    if not np.isfinite(cols).all():
        raise fail(int(np.argmin(np.isfinite(cols).all(axis=1))), "has a non-finite value")
    if len(ts) and (ts < 0).any():
        raise fail(int(np.argmax(ts < 0)), "time must be epoch ms >= 0")
    o, h, lo, c, v = cols.T
    bad = (lo > np.minimum(o, c)) | (h < np.maximum(o, c)) | (lo <= 0) | (v < 0)
    if bad.any():
        raise fail(int(np.argmax(bad)), "needs 0 < low <= open, close <= high and volume >= 0")
