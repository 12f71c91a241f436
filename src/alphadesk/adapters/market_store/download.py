"""``alphadesk data download``: Bybit public candles, funding and instrument rules, stored.

Incremental: a symbol's stored bars are read first and only the missing stretches of the asked
period are fetched (before the first bar, after the last, and the holes in between). Klines are
walked forward in pages of 1000 bars (``start``..``start + 1000 bars``, Bybit answers newest
first); every :data:`FLUSH_PAGES` pages what has arrived is merged into the Parquet file
atomically, so a download stopped at any point (Ctrl-C, SIGKILL) resumes from what it stored.
Only closed bars are kept (open time + interval <= Bybit's clock). Requests go through
:class:`~alphadesk.adapters.bybit.rest.BybitRest`, which waits out exhausted rate-limit windows
from Bybit's ``X-Bapi-Limit-*`` headers and backs off a 10006 with jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.market import MarketData
from alphadesk.adapters.bybit.parse_market import bar_from_row, interval_code
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.market_store.files import (
    FloatArray,
    IntArray,
    candle_name,
    funding_name,
    read_candles,
    read_funding,
    write_candles,
    write_funding,
)
from alphadesk.adapters.market_store.instruments import INSTRUMENTS_FILE, merge_items
from alphadesk.analytics.bar_series import gaps
from alphadesk.domain.checks import to_epoch_ms

MINUTE_MS = 60_000
KLINE_PAGE = 1000
FLUSH_PAGES = 20
FUNDING_PAGE = 200

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: bars (or settlements) fetched of those missing."""


@dataclass(frozen=True, slots=True)
class Fetched:
    task: str
    path: Path
    added: int
    stored: int
    requests: int
    note: str = ""
    """What the user should know about what was not fetched (the venue's clock, an empty answer)."""


def missing_ranges(
    stored: IntArray, start_ms: int, end_ms: int, step_ms: int
) -> list[tuple[int, int]]:
    """Half-open ``[from, to)`` stretches of the grid in ``[start, end)`` with no stored bar."""
    first = -(-start_ms // step_ms) * step_ms
    if first >= end_ms:
        return []
    inside = stored[(stored >= first) & (stored < end_ms)]
    if not len(inside):
        return [(first, end_ms)]
    out: list[tuple[int, int]] = []
    if inside[0] > first:
        out.append((first, int(inside[0])))
    out.extend(
        (h.after_ms + step_ms, h.next_ms) for h in gaps(inside, step_ms // MINUTE_MS)
    )
    after = int(inside[-1]) + step_ms
    if after < end_ms:
        out.append((after, end_ms))
    return out


class Downloader:
    def __init__(
        self, rest: BybitRest, folder: Path, progress: Progress | None = None,
        *, flush_pages: int = FLUSH_PAGES,
    ) -> None:
        self.rest = rest
        self.folder = folder
        self.progress = progress
        self.flush_pages = max(1, flush_pages)

    def _say(self, task: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(task, done, total)

    async def candles(
        self, symbol: str, interval_min: int, start_ms: int, end_ms: int
    ) -> Fetched:
        """Fill the stored candles of ``symbol`` at ``interval_min`` over ``[start, end)``."""
        code = interval_code(interval_min)
        step = interval_min * MINUTE_MS
        path = self.folder / candle_name(symbol, interval_min)
        task = f"{symbol} {path.name.split('_')[1]}"
        ts, cols = _stored(path)
        now = self.rest.clock.now_ms()
        asked_end = end_ms
        end_ms = min(end_ms, now - now % step)  # the bar still forming is not ours yet
        todo = missing_ranges(ts, start_ms, end_ms, step)
        total = sum((b - a) // step for a, b in todo)
        self._say(task, 0, total)
        done = added = requests = pages = 0
        new_ts: list[IntArray] = []
        new_cols: list[FloatArray] = []
        for lo, hi in todo:
            cursor = lo
            while cursor < hi:
                page_end = min(hi, cursor + KLINE_PAGE * step) - 1
                reply = await self.rest.get(
                    "publicGetV5MarketKline",
                    {"category": "linear", "symbol": symbol, "interval": code,
                     "start": cursor, "end": page_end, "limit": KLINE_PAGE},
                    endpoint="/v5/market/kline",
                    result_type=w.KlineResult,
                )
                requests += 1
                bars = [bar_from_row(row, symbol, interval_min) for row in reply.result.list]
                got = sorted(
                    (b for b in bars if cursor <= b.open_time_ms <= page_end
                     and b.open_time_ms + step <= now),
                    key=lambda b: b.open_time_ms,
                )
                if got:
                    new_ts.append(np.array([b.open_time_ms for b in got], dtype=np.int64))
                    new_cols.append(np.array(
                        [[b.open, b.high, b.low, b.close, b.volume] for b in got],
                        dtype=np.float64,
                    ))
                    added += len(got)
                done += (page_end + 1 - cursor) // step
                self._say(task, min(done, total), total)
                cursor = page_end + 1
                pages += 1
                if pages % self.flush_pages == 0 and new_ts:
                    ts, cols = _merge(path, ts, cols, new_ts, new_cols)
                    new_ts, new_cols = [], []
        if new_ts:
            ts, cols = _merge(path, ts, cols, new_ts, new_cols)
        notes = []
        if added < total:
            span = f"{_iso(todo[0][0])} .. {_iso(todo[-1][1])}"
            notes.append(f"the venue had {added} of the {total} bars missing in {span} "
                         "(`data list` shows the holes left)")
        if asked_end - end_ms >= step:
            notes.append(f"the venue's clock is {_iso(now)}: no bar after {_iso(end_ms)} "
                         "has closed there yet")
        return Fetched(task, path, added, len(ts), requests, "; ".join(notes))

    async def funding(self, symbol: str, start_ms: int, end_ms: int) -> Fetched:
        """Fill the stored funding settlements of ``symbol`` over ``[start, end)``."""
        path = self.folder / funding_name(symbol)
        task = f"{symbol} funding"
        stored = read_funding([path], symbol).as_map() if path.is_file() else {}
        todo: list[tuple[int, int]] = []
        if not stored:
            todo.append((start_ms, end_ms))
        else:
            first, last = min(stored), max(stored)
            if start_ms < first:
                todo.append((start_ms, first))
            if last + 1 < end_ms:
                todo.append((last + 1, end_ms))
        self._say(task, 0, len(todo))
        market = MarketData(self.rest)
        calls_before = self.rest.stats.calls
        added = 0
        for i, (lo, hi) in enumerate(todo):
            rates = await market.funding_history(symbol, _dt(lo), _dt(hi - 1))
            for rate in rates:
                at = to_epoch_ms(rate.at)
                if lo <= at < hi and at not in stored:
                    stored[at] = rate.rate
                    added += 1
            self._say(task, i + 1, len(todo))
        if added or (stored and not path.is_file()):
            write_funding(path, stored)
        return Fetched(task, path, added, len(stored), self.rest.stats.calls - calls_before)

    async def instruments(self, symbols: list[str]) -> Fetched:
        """Bybit's instruments-info items for ``symbols``, kept unchanged in the folder."""
        path = self.folder / INSTRUMENTS_FILE
        items: list[dict[str, Any]] = []
        for i, symbol in enumerate(symbols):
            reply = await self.rest.get(
                "publicGetV5MarketInstrumentsInfo",
                {"category": "linear", "symbol": symbol},
                endpoint="/v5/market/instruments-info",
                result_type=dict[str, Any],
            )
            listed = [x for x in reply.result.get("list") or [] if isinstance(x, dict)]
            found = [x for x in listed if x.get("symbol") == symbol]
            if not found:
                raise LookupError(f"symbol={symbol!r}: not listed by Bybit (linear)")
            items.extend(found)
            self._say("instruments", i + 1, len(symbols))
        merge_items(path, items)
        return Fetched("instruments", path, len(items), len(items), len(symbols))


def _stored(path: Path) -> tuple[IntArray, FloatArray]:
    if not path.is_file():
        return np.empty(0, dtype=np.int64), np.empty((0, 5), dtype=np.float64)
    raw = read_candles(path)
    cols = np.column_stack([raw.open, raw.high, raw.low, raw.close, raw.volume])
    return raw.ts_ms, cols


def _merge(
    path: Path, ts: IntArray, cols: FloatArray, new_ts: list[IntArray], new_cols: list[FloatArray]
) -> tuple[IntArray, FloatArray]:
    all_ts = np.concatenate([ts, *new_ts])
    all_cols = np.concatenate([cols, *new_cols])
    write_candles(path, all_ts, all_cols)
    order = np.argsort(all_ts, kind="stable")
    all_ts, all_cols = all_ts[order], all_cols[order]
    keep = np.r_[all_ts[1:] != all_ts[:-1], True] if len(all_ts) else np.ones(0, dtype=bool)
    return all_ts[keep], all_cols[keep]


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
