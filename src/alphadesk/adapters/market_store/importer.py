"""``alphadesk data import``: a CSV of candles or funding rates into the folder as Parquet.

The kind comes from the header (``ts_ms,open,high,low,close,volume`` or ``ts_ms,funding_rate``),
the interval from the timestamps (a file name that says otherwise is refused), the symbol from
the file name or ``--symbol``. Rows merge with what is stored; a repeated time keeps the row
being imported.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from alphadesk.adapters.market_store.download import Fetched
from alphadesk.adapters.market_store.files import (
    CANDLE_COLUMNS,
    FUNDING_COLUMNS,
    DataFileError,
    candle_name,
    funding_name,
    interval_label,
    name_parts,
    read_candles,
    read_funding,
    write_candles,
    write_funding,
)
from alphadesk.analytics.bar_series import infer_interval_min


def import_csv(path: Path, folder: Path, symbol: str | None = None) -> Fetched:
    with path.open(newline="", encoding="utf-8") as handle:
        header = tuple(h.strip() for h in next(csv.reader(handle), []))
    if header == FUNDING_COLUMNS:
        return _funding(path, folder, symbol)
    if header == CANDLE_COLUMNS:
        return _candles(path, folder, symbol)
    raise DataFileError(
        f"{path} row 1", list(header),
        f"header must be {','.join(CANDLE_COLUMNS)} or {','.join(FUNDING_COLUMNS)}",
    )


def _candles(path: Path, folder: Path, symbol: str | None) -> Fetched:
    raw = read_candles(path)
    symbol = symbol or raw.symbol
    interval = infer_interval_min(raw.ts_ms)
    if interval is None:
        raise DataFileError("file", str(path), "has too few bars to tell their interval")
    if raw.named_interval_min is not None and raw.named_interval_min != interval:
        raise DataFileError(
            "file", str(path),
            f"the name says {interval_label(raw.named_interval_min)} bars but the timestamps "
            f"are {interval_label(interval)} apart",
        )
    target = folder / candle_name(symbol, interval)
    cols = np.column_stack([raw.open, raw.high, raw.low, raw.close, raw.volume])
    ts = raw.ts_ms
    if target.is_file():
        old = read_candles(target)
        old_cols = np.column_stack([old.open, old.high, old.low, old.close, old.volume])
        ts = np.concatenate([old.ts_ms, ts])
        cols = np.concatenate([old_cols, cols])
    write_candles(target, ts, cols)
    return Fetched(f"{symbol} {interval_label(interval)}", target, len(raw),
                   len(np.unique(ts)), 0)


def _funding(path: Path, folder: Path, symbol: str | None) -> Fetched:
    name_symbol = name_parts(path)[0]
    symbol = symbol or name_symbol
    target = folder / funding_name(symbol)
    new = read_funding([path], symbol).as_map()
    merged = read_funding([target], symbol).as_map() if target.is_file() else {}
    merged.update(new)
    write_funding(target, merged)
    return Fetched(f"{symbol} funding", target, len(new), len(merged), 0)
