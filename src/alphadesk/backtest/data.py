"""Candles for a backtest: several files, checked, cut to a period, aligned on one timeline.

Each symbol keeps its own arrays (a strategy's indicators run on its own bars); the timeline is
the sorted union of bar open times, and ``index[s][k]`` says which of symbol ``s``'s bars opens at
timeline step ``k`` (-1 when it has none), so symbols with gaps or different histories still line
up by time.

Honest bars: the bar interval is what the timestamps say (a file name such as ``_5m_`` must agree
with it, or the file is refused); repeated bars and holes are reported with counts and positions
(``strict`` refuses them); finer bars are resampled to the strategy's timeframe on the 00:00 UTC
grid and coarser ones refused (:func:`for_strategy`). Funding-rate history and Bybit instrument
rules found beside the candles (``*funding*`` CSV/Parquet, ``instruments_linear.json``) travel
with the data, so a run charges the real rates and trades under the real rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphadesk.adapters.market_store.files import (
    FundingHistory,
    RawCandles,
    funding_beside,
    interval_label,
    is_funding_file,
    name_parts,
    read_candles,
    read_funding,
)
from alphadesk.adapters.market_store.instruments import INSTRUMENTS_FILE, read_instruments
from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.analytics.bar_series import duplicates, gaps, infer_interval_min, resample
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument

IntArray = npt.NDArray[np.int64]

#: The field a bad period is reported under; a command names its own flags instead.
PERIOD = "period"
#: How many positions a note lists before it says "and N more".
SHOWN = 5


def cut(bars: BarArrays, start_ms: int | None, end_ms: int | None) -> BarArrays:
    """Bars whose open time is in [start_ms, end_ms)."""
    lo = 0 if start_ms is None else int(np.searchsorted(bars.ts_ms, start_ms, side="left"))
    hi = len(bars) if end_ms is None else int(np.searchsorted(bars.ts_ms, end_ms, side="left"))
    return BarArrays(
        bars.symbol,
        bars.interval_min,
        bars.ts_ms[lo:hi],
        bars.open[lo:hi],
        bars.high[lo:hi],
        bars.low[lo:hi],
        bars.close[lo:hi],
        bars.volume[lo:hi],
    )


@dataclass(frozen=True, slots=True)
class MarketData:
    series: dict[str, BarArrays]
    timeline: IntArray
    """Union of open times, sorted."""
    index: dict[str, IntArray]
    interval_min: int
    funding: dict[str, FundingHistory] = field(default_factory=dict)
    """Funding settlements per symbol, where a history was found; others pay the constant."""
    instruments: dict[str, Instrument] = field(default_factory=dict)
    """Bybit's rules per symbol where the data folder (or the bundle) has them."""
    notes: tuple[str, ...] = ()
    """What the loader found and did: gaps, repeats, resampling, files left out."""
    files: dict[str, str] = field(default_factory=dict)
    """Symbol -> the candle file it came from (name only)."""

    @property
    def symbols(self) -> list[str]:
        return sorted(self.series)

    @property
    def bar_count(self) -> int:
        return sum(len(b) for b in self.series.values())

    @property
    def close_times(self) -> IntArray:
        out: IntArray = self.timeline + self.interval_min * 60_000
        return out

    def select(self, symbols: Sequence[str]) -> MarketData:
        missing = sorted(set(symbols) - set(self.series))
        if missing:
            raise InvalidField("symbols", missing, f"no data; files give {self.symbols}")
        return self._with(align([self.series[s] for s in symbols]), set(symbols))

    def _with(self, aligned: MarketData, keep: set[str], notes: Sequence[str] = ()) -> MarketData:
        return replace(
            aligned,
            funding={s: f for s, f in self.funding.items() if s in keep},
            instruments={s: i for s, i in self.instruments.items() if s in keep},
            notes=(*self.notes, *notes),
            files={s: f for s, f in self.files.items() if s in keep},
        )


def align(series: Sequence[BarArrays]) -> MarketData:
    """The series on one timeline, each checked first (:func:`check_series`)."""
    if not series:
        raise InvalidField("data", [], "needs at least one candle file")
    by_symbol: dict[str, BarArrays] = {}
    for bars in series:
        if bars.symbol in by_symbol:
            raise InvalidField("data", bars.symbol, "given twice")
        check_series(bars)
        by_symbol[bars.symbol] = bars
    intervals = {b.interval_min for b in series}
    if len(intervals) != 1:
        shown = sorted(f"{b.symbol} {interval_label(b.interval_min)}" for b in series)
        raise InvalidField(
            "data", shown, "files must share one bar interval (a strategy resamples finer bars "
            "to its own timeframe: see backtest.data.for_strategy)"
        )
    timeline = np.unique(np.concatenate([b.ts_ms for b in series])).astype(np.int64)
    index: dict[str, IntArray] = {}
    for symbol, bars in by_symbol.items():
        slots = np.full(len(timeline), -1, dtype=np.int64)
        slots[np.searchsorted(timeline, bars.ts_ms)] = np.arange(len(bars), dtype=np.int64)
        index[symbol] = slots
    return MarketData(by_symbol, timeline, index, intervals.pop())


def check_series(bars: BarArrays) -> None:
    """Refuse a series the bar loop cannot trust, naming the symbol, the bar and its time (UTC).

    Every backtest's data comes through :func:`align`, so this is the one place to check bars
    built in code (files are checked as they are read, and :func:`load` sorts them and leaves
    repeats out first). Checked for the whole series, once: the loop reads a bar only when it
    visits it, and the quiet-bar jumps visit few, so a bar the venue's walk would refuse
    (``MatchingEngine.on_bar``) must be refused here or a run that skips it would not see it.
    Times must rise strictly: the loop keeps one step per time, and a repeated one would fail
    later, as an IndexError, far from its cause.
    """
    symbol = bars.symbol
    ts = bars.ts_ms
    n = len(ts)
    columns = (bars.open, bars.high, bars.low, bars.close, bars.volume)
    for name, column in zip(("open", "high", "low", "close", "volume"), columns, strict=True):
        if len(column) != n:
            raise InvalidField(
                f"data {symbol} {name}", f"{len(column)} values", f"for {n} bar times"
            )
    if not n:
        return
    if ts[0] < 0:
        raise InvalidField(f"data {symbol} bar 0 ts_ms", int(ts[0]), "must be epoch ms >= 0")
    steps = np.diff(ts)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        at, before = _iso(int(ts[i])), _iso(int(ts[i - 1]))
        how = "repeats bar" if ts[i] == ts[i - 1] else f"is before {before}, the time of bar"
        raise InvalidField(
            f"data {symbol} bar {i} ts_ms", int(ts[i]),
            f"{at} {how} {i - 1}: bar times must be strictly increasing",
        )
    o, h, lo, c, v = columns
    good = (
        np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
        & (lo > 0) & (lo <= np.minimum(o, c)) & (np.maximum(o, c) <= h) & (v >= 0)
    )  # fmt: skip
    if not good.all():
        i = int(np.argmin(good))
        raise InvalidField(
            f"data {symbol} bar {i} at {_iso(int(ts[i]))}",
            [float(col[i]) for col in columns],
            "needs finite values, 0 < low <= open, close <= high and volume >= 0",
        )


class DataQualityError(InvalidField):
    """``strict`` loading found repeated bars or holes; the reason lists them."""


def load(
    paths: Sequence[str | Path],
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    timeframe_min: int | None = None,
    strict: bool = False,
    funding: bool = True,
) -> MarketData:
    """Read candle files (CSV or Parquet), check them, align them.

    Funding files given among ``paths`` (a name with ``funding``) are used for their symbol;
    otherwise those beside each candle file are (``funding=False``: none, the constant rate).
    With ``timeframe_min`` every series is brought to it (resampled, or refused when coarser).
    A period that is empty or leaves a file with no bars is refused (field :data:`PERIOD`),
    naming what the file covers; an empty series would otherwise fail deep inside a run.
    """
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidField(PERIOD, _span(start_ms, end_ms), "the start must be before the end")
    given_funding: dict[str, list[Path]] = {}
    candle_paths: list[Path] = []
    for raw_path in paths:
        path = Path(raw_path)
        if path.suffix.lower() == ".json":
            continue  # instrument rules: read per folder below
        if is_funding_file(path):
            given_funding.setdefault(name_parts(path)[0], []).append(path)
        else:
            candle_paths.append(path)
    if not candle_paths:
        raise InvalidField("data", [str(p) for p in paths], "holds no candle file")
    series: list[BarArrays] = []
    notes: list[str] = []
    histories: dict[str, FundingHistory] = {}
    files: dict[str, str] = {}
    folders: list[Path] = []
    for path in candle_paths:
        raw = read_candles(path)
        bars, found = _checked(raw, strict)
        notes.extend(found)
        whole = bars
        bars = cut(whole, start_ms, end_ms)
        if not len(bars):
            covers = (
                _span(int(whole.ts_ms[0]), int(whole.ts_ms[-1]) + whole.interval_min * 60_000)
                if len(whole) else "nothing"
            )
            raise InvalidField(
                PERIOD, _span(start_ms, end_ms),
                f"holds no {whole.symbol} bars (the file covers {covers})",
            )
        holes = gaps(bars.ts_ms, bars.interval_min)
        if holes:
            missing = sum(h.missing for h in holes)
            shown = ", ".join(f"{_iso(h.after_ms)} (+{h.missing})" for h in holes[:SHOWN])
            more = f" and {len(holes) - SHOWN} more" if len(holes) > SHOWN else ""
            text = (
                f"{path.name}: {len(holes)} gap(s), {missing} missing "
                f"{interval_label(bars.interval_min)} bar(s), after {shown}{more}"
            )
            if strict:
                raise DataQualityError("data", path.name, f"has holes (--strict): {text}")
            notes.append(text)
        series.append(bars)
        files[bars.symbol] = path.name
        if path.parent not in folders:
            folders.append(path.parent)
        if funding:
            funding_files = given_funding.get(bars.symbol) or funding_beside(path, bars.symbol)
            if funding_files:
                histories[bars.symbol] = read_funding(funding_files, bars.symbol)
    data = align(series)
    instruments: dict[str, Instrument] = {}
    for folder in reversed(folders):  # the first folder given wins
        instruments.update(read_instruments(folder / INSTRUMENTS_FILE))
    data = replace(
        data,
        funding=histories,
        instruments={s: i for s, i in instruments.items() if s in data.series},
        notes=tuple(notes),
        files=files,
    )
    if timeframe_min is not None:
        data = to_timeframe(data, timeframe_min)
    return data


def _checked(raw: RawCandles, strict: bool) -> tuple[BarArrays, list[str]]:
    """Sorted, repeat-free bars at the interval the timestamps show, and what was found."""
    notes: list[str] = []
    path = raw.path
    ts = raw.ts_ms
    repeats = duplicates(ts)
    if len(repeats):
        rows = ", ".join(f"row {int(i) + 2} ({_iso(int(ts[i]))})" for i in repeats[:SHOWN])
        more = f" and {len(repeats) - SHOWN} more" if len(repeats) > SHOWN else ""
        text = f"{path.name}: {len(repeats)} repeated bar(s) left out (first kept): {rows}{more}"
        if strict:
            raise DataQualityError("data", path.name, f"repeats bars (--strict): {text}")
        notes.append(text)
    keep = np.ones(len(ts), dtype=bool)
    keep[repeats] = False
    order = np.flatnonzero(keep)
    order = order[np.argsort(ts[order], kind="stable")]
    if len(order) > 1 and (np.diff(order) < 0).any():
        text = f"{path.name}: rows are not in time order; sorted by time"
        if strict:
            raise DataQualityError("data", path.name, f"is out of order (--strict): {text}")
        notes.append(text)
    ts = ts[order]
    inferred = infer_interval_min(ts)
    named = raw.named_interval_min
    if inferred is None:
        if named is None:
            raise InvalidField("data", path.name, "has too few bars to tell their interval")
        inferred = named
    elif named is not None and named != inferred:
        raise InvalidField(
            "data", path.name,
            f"the name says {interval_label(named)} bars but the timestamps are "
            f"{interval_label(inferred)} apart",
        )
    step = inferred * 60_000
    if inferred <= 1440:
        off = ts % step != 0
        if off.any():
            i = int(np.argmax(off))
            raise InvalidField(
                f"{path} row {int(order[i]) + 2}", int(ts[i]),
                f"time is not on the {interval_label(inferred)} grid",
            )
    bars = BarArrays(
        raw.symbol, inferred, ts,
        raw.open[order], raw.high[order], raw.low[order], raw.close[order], raw.volume[order],
    )
    return bars, notes


def to_timeframe(data: MarketData, timeframe_min: int) -> MarketData:
    """The data at ``timeframe_min``: as is, resampled from finer bars, or refused when coarser
    (or finer bars that do not divide it)."""
    if data.interval_min == timeframe_min:
        return data
    have, want = interval_label(data.interval_min), interval_label(timeframe_min)
    if data.interval_min > timeframe_min:
        raise InvalidField(
            "data", f"{have} bars",
            f"are coarser than the strategy's {want} timeframe; give {want} bars or finer",
        )
    if timeframe_min % data.interval_min:
        raise InvalidField(
            "data", f"{have} bars", f"do not divide the strategy's {want} timeframe evenly",
        )
    series: list[BarArrays] = []
    notes: list[str] = []
    for symbol in data.symbols:
        bars = data.series[symbol]
        r = resample(bars.ts_ms, bars.open, bars.high, bars.low, bars.close, bars.volume,
                     bars.interval_min, timeframe_min)
        if not len(r.ts_ms):
            raise InvalidField(
                "data", symbol, f"holds no complete {want} bar in its {len(bars)} {have} bars"
            )
        dropped = []
        if r.dropped_head:
            dropped.append(f"{r.dropped_head} bar(s) of an incomplete first bucket")
        if r.dropped_tail:
            dropped.append(f"{r.dropped_tail} bar(s) of an incomplete last bucket")
        tail = f"; left out {' and '.join(dropped)}" if dropped else ""
        notes.append(
            f"{symbol}: resampled {len(bars)} {have} bars to {len(r.ts_ms)} {want} bars "
            f"(00:00 UTC grid){tail}"
        )
        series.append(BarArrays(symbol, timeframe_min, r.ts_ms, r.open, r.high, r.low, r.close,
                                r.volume))
    return data._with(align(series), set(data.series), notes)


def for_strategy(data: MarketData, strategy: Any) -> MarketData:
    """The part of ``data`` a strategy trades, at its timeframe, with a note for every file it
    leaves out and why. A strategy with a universe (``symbols``) trades the part of it the data
    covers; without one it trades every symbol given."""
    timeframe = int(getattr(strategy, "timeframe_min", data.interval_min))
    universe: tuple[str, ...] = tuple(getattr(strategy, "symbols", ()) or ())
    if universe:
        chosen = sorted(set(universe) & set(data.symbols))
        if not chosen:
            raise InvalidField(
                "data", data.symbols,
                f"holds none of {strategy.name}'s symbols ({', '.join(sorted(universe))})",
            )
        left_out = [s for s in data.symbols if s not in chosen]
        if left_out:
            notes = [
                f"{data.files.get(s, s)}: not used, {s} is not in {strategy.name}'s symbols"
                for s in left_out
            ]
            data = data._with(align([data.series[s] for s in chosen]), set(chosen), notes)
    return to_timeframe(data, timeframe)


def pick_files(folder: Path, timeframe_min: int) -> list[Path]:
    """One candle file per symbol in ``folder`` for a strategy of ``timeframe_min``: its own
    interval when present, else the coarsest finer one that divides it (to be resampled)."""
    best: dict[str, tuple[int, Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".csv", ".parquet") or is_funding_file(path):
            continue
        try:
            symbol, minutes = name_parts(path)
        except InvalidField:
            continue
        if minutes is None or minutes > timeframe_min or timeframe_min % minutes:
            continue
        if symbol not in best or minutes > best[symbol][0]:
            best[symbol] = (minutes, path)
    return [best[s][1] for s in sorted(best)]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _span(start_ms: int | None, end_ms: int | None) -> str:
    def show(ms: int | None) -> str:
        return "" if ms is None else _iso(ms)

    return f"{show(start_ms)}..{show(end_ms)}"
