"""What a data folder holds: per file its symbol, kind, rows, first/last time and gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from alphadesk.adapters.market_store.files import (
    interval_label,
    is_funding_file,
    name_parts,
    read_candles,
    read_funding,
)
from alphadesk.adapters.market_store.instruments import INSTRUMENTS_FILE, read_items
from alphadesk.analytics.bar_series import duplicates, gaps, infer_interval_min
from alphadesk.domain.errors import InvalidField


@dataclass(frozen=True, slots=True)
class Entry:
    file: str
    symbol: str
    kind: str
    """``candles 5m``, ``funding`` or ``instruments``."""
    rows: int
    first: str
    last: str
    gaps: str


def inventory(folder: Path) -> list[Entry]:
    out: list[Entry] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.name == INSTRUMENTS_FILE:
            items = read_items(path)
            symbols = ", ".join(sorted(str(i.get("symbol")) for i in items))
            out.append(Entry(path.name, symbols, "instruments", len(items), "", "", ""))
        elif path.suffix.lower() in (".csv", ".parquet"):
            try:
                out.append(_funding(path) if is_funding_file(path) else _candles(path))
            except InvalidField as exc:  # one bad file is listed as such, not the end of it
                out.append(Entry(path.name, "", "unreadable", 0, "", "", exc.reason))
    return out


def _candles(path: Path) -> Entry:
    raw = read_candles(path)
    ts = np.unique(raw.ts_ms)
    interval = infer_interval_min(ts) or raw.named_interval_min or 0
    holes = gaps(ts, interval) if interval else []
    repeats = len(duplicates(raw.ts_ms))
    text = f"{len(holes)} ({sum(h.missing for h in holes)} bars)" if holes else "none"
    if repeats:
        text += f", {repeats} repeated"
    if raw.named_interval_min is not None and raw.named_interval_min != interval:
        text += f", name says {interval_label(raw.named_interval_min)}"
    kind = f"candles {interval_label(interval)}" if interval else "candles ?"
    return Entry(path.name, raw.symbol, kind, len(raw), _iso(ts[0]) if len(ts) else "",
                 _iso(ts[-1]) if len(ts) else "", text)


def _funding(path: Path) -> Entry:
    symbol = name_parts(path)[0]
    history = read_funding([path], symbol)
    times = history.ts_ms
    return Entry(path.name, symbol, "funding", len(history), _iso(times[0]) if times else "",
                 _iso(times[-1]) if times else "", "")


def _iso(ms: int | np.integer) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M")
