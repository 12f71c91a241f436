"""From indicator specs to values: vectorised for backtests, incremental for live, same numbers.

``FeatureTable`` computes every column of one symbol's whole history up front with the numpy
forms of ``alphadesk.indicators``; its ``ArrayRow`` (``rows``) is one reusable object whose reads
index precomputed Python lists, so the backtest loop pays a dict lookup and a list index per value.
``LiveFeatures`` feeds one closed bar at a time to the incremental classes and hands out a
``LiveRow`` with the same interface. Both run the indicator package's own code, which agrees
between its two forms to 1e-9, so a strategy sees the same values in a backtest and live provided
the live side was warmed up on the same history (recursive indicators such as EMA remember it).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from alphadesk import indicators as ta
from alphadesk.domain.bars import Bar
from alphadesk.indicators import native
from alphadesk.indicators._types import FloatArray
from alphadesk.strategies.rows import ArrayRow, row_type
from alphadesk.strategies.specs import IndicatorSpec

NAN = math.nan


@dataclass(frozen=True, slots=True)
class Ohlcv:
    """One symbol's bars as aligned float arrays (oldest first)."""

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @classmethod
    def of(
        cls,
        open_: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> Ohlcv:
        arrays = [np.asarray(a, dtype=np.float64) for a in (open_, high, low, close, volume)]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
            raise ValueError(
                f"ohlcv arrays must be 1-D and aligned, got {[a.shape for a in arrays]}"
            )
        return cls(*arrays)

    @classmethod
    def from_bars(cls, bars: list[Bar]) -> Ohlcv:
        return cls.of(
            [b.open for b in bars],
            [b.high for b in bars],
            [b.low for b in bars],
            [b.close for b in bars],
            [b.volume for b in bars],
        )

    def field(self, name: str) -> FloatArray:
        array: FloatArray = getattr(self, name)
        return array

    def __len__(self) -> int:
        return len(self.close)


def _int(spec: IndicatorSpec, name: str) -> int:
    return int(spec.arg(name))


def _float(spec: IndicatorSpec, name: str) -> float:
    return float(spec.arg(name))


def _field(spec: IndicatorSpec) -> str:
    return str(spec.arg("field"))


# --------------------------------------------------------------------------------------------
# Vectorised


def _lagged(values: FloatArray, periods: int) -> FloatArray:
    out = np.full(len(values), np.nan)
    if len(values) > periods:
        out[periods:] = values[: len(values) - periods]
    return out


def previous(values: FloatArray, periods: int = 1) -> FloatArray:
    """``values`` shifted ``periods`` bars later, NaN first: what ``Row.prev`` reads, as a column
    (strategies' ``wake_bars`` compare it with the current values exactly as ``on_bar`` does)."""
    return _lagged(np.asarray(values, dtype=np.float64), periods)


BandsKey = tuple[int, float, int]


def compute_all(specs: Mapping[str, IndicatorSpec], bars: Ohlcv) -> dict[str, FloatArray]:
    """Every column of ``specs`` over ``bars``; Bollinger specs with the same period, k and ddof
    (Momentum's band and width percentile) share one computation of the bands."""
    bands: dict[BandsKey, ta.BollingerBands] = {}
    return {name: compute(spec, bars, bands) for name, spec in specs.items()}


def compute(
    spec: IndicatorSpec, bars: Ohlcv, bands: dict[BandsKey, ta.BollingerBands] | None = None
) -> FloatArray:
    """The whole column for ``spec`` over ``bars`` (NaN during warm-up). ``bands`` keeps the
    Bollinger bands computed so far for the next spec over the same ``bars``; a column is a copy,
    never the shared array, so a caller writing into one cannot change another."""
    kind = spec.kind
    o, h, lo, c, v = bars.open, bars.high, bars.low, bars.close, bars.volume
    if kind == "source":
        return bars.field(_field(spec)).copy()
    if kind == "lag":
        return _lagged(bars.field(_field(spec)), _int(spec, "periods"))
    if kind == "ema":
        return native.ema(bars.field(_field(spec)), _int(spec, "period"))
    if kind == "sma":
        return ta.sma(bars.field(_field(spec)), _int(spec, "period"))
    if kind == "rsi":
        return native.rsi(bars.field(_field(spec)), _int(spec, "period"))
    if kind == "atr":
        return ta.atr(h, lo, c, _int(spec, "period"))
    if kind in ("adx", "plus_di", "minus_di"):
        dmi = ta.dmi(h, lo, c, _int(spec, "period"))
        return {"adx": dmi.adx, "plus_di": dmi.plus_di, "minus_di": dmi.minus_di}[kind]
    if kind in ("bb_upper", "bb_lower", "bb_width", "bb_width_pct"):
        if bands is None:
            bands = {}
        key = (_int(spec, "period"), _float(spec, "k"), _int(spec, "ddof"))
        if key not in bands:
            bands[key] = ta.bollinger(c, *key)
        got = bands[key]
        if kind == "bb_width_pct":
            return ta.rolling_percentile_rank(got.width, _int(spec, "window"))
        column = got.upper if kind == "bb_upper" else got.lower if kind == "bb_lower" else got.width
        return column.copy()  # the shared bands stay the cache's own
    if kind == "returns_std":
        return ta.return_volatility(c, _int(spec, "window"), _int(spec, "ddof"))
    if kind == "pct_change":
        return ta.pct_change(bars.field(_field(spec)), _int(spec, "periods"))
    if kind == "open_close_change":
        return ta.open_close_change(o, c, _int(spec, "lookback"))
    if kind == "bar_spread":
        return ta.bar_spread(h, lo, c)
    if kind == "relative_volume":
        return ta.relative_volume(v, _int(spec, "period"))
    raise ValueError(f"indicator kind {kind!r} is not known (spec {spec})")


# --------------------------------------------------------------------------------------------
# Incremental


Step = Callable[[Bar], float | None]


def _from_field(field: str, update: Callable[[float], float | None]) -> Step:
    getter: Callable[[Bar], float] = attrgetter(field)
    return lambda bar: update(getter(bar))


def _lag_step(field: str, periods: int) -> Step:
    window: deque[float] = deque(maxlen=periods + 1)

    def step(bar: Bar) -> float | None:
        window.append(float(getattr(bar, field)))
        return window[0] if len(window) > periods else None

    return step


def _dmi_step(kind: str, period: int) -> Step:
    state = ta.ADX(period)

    def step(bar: Bar) -> float | None:
        value = state.update(bar.high, bar.low, bar.close)
        if kind == "plus_di":
            return state.plus_di
        if kind == "minus_di":
            return state.minus_di
        return value

    return step


def _bollinger_step(kind: str, period: int, k: float, ddof: int, window: int) -> Step:
    bands = ta.Bollinger(period, k, ddof)
    rank = ta.RollingPercentileRank(window) if kind == "bb_width_pct" else None

    def step(bar: Bar) -> float | None:
        value = bands.update(bar.close)
        if value is None:
            return None
        if kind == "bb_upper":
            return value.upper
        if kind == "bb_lower":
            return value.lower
        if kind == "bb_width":
            return value.width
        assert rank is not None
        return rank.update(value.width) if math.isfinite(value.width) else None

    return step


def incremental(spec: IndicatorSpec) -> Step:
    """A fresh live form of ``spec``: call it with each closed bar, oldest first."""
    kind = spec.kind
    if kind == "source":
        return _from_field(_field(spec), lambda x: x)
    if kind == "lag":
        return _lag_step(_field(spec), _int(spec, "periods"))
    if kind in ("ema", "sma", "rsi"):
        period = _int(spec, "period")
        live = (
            ta.EMA(period) if kind == "ema" else ta.SMA(period) if kind == "sma" else ta.RSI(period)
        )
        return _from_field(_field(spec), live.update)
    if kind == "atr":
        atr = ta.ATR(_int(spec, "period"))
        return lambda bar: atr.update(bar.high, bar.low, bar.close)
    if kind in ("adx", "plus_di", "minus_di"):
        return _dmi_step(kind, _int(spec, "period"))
    if kind in ("bb_upper", "bb_lower", "bb_width", "bb_width_pct"):
        window = _int(spec, "window") if kind == "bb_width_pct" else 2
        return _bollinger_step(
            kind, _int(spec, "period"), _float(spec, "k"), _int(spec, "ddof"), window
        )
    if kind == "returns_std":
        vol = ta.ReturnVolatility(_int(spec, "window"), _int(spec, "ddof"))
        return lambda bar: vol.update(bar.close)
    if kind == "pct_change":
        return _from_field(_field(spec), ta.PctChange(_int(spec, "periods")).update)
    if kind == "open_close_change":
        occ = ta.OpenCloseChange(_int(spec, "lookback"))
        return lambda bar: occ.update(bar.open, bar.close)
    if kind == "bar_spread":
        spread = ta.BarSpread()
        return lambda bar: spread.update(bar.high, bar.low, bar.close)
    if kind == "relative_volume":
        return _from_field("volume", ta.RelativeVolume(_int(spec, "period")).update)
    raise ValueError(f"indicator kind {kind!r} is not known (spec {spec})")


def first_valid_index(spec: IndicatorSpec, bars: Ohlcv) -> int:
    """Index of the first non-NaN value of ``spec`` over ``bars`` (len(bars) if none)."""
    hits = np.flatnonzero(~np.isnan(compute(spec, bars)))
    return int(hits[0]) if hits.size else len(bars)


# --------------------------------------------------------------------------------------------
# Rows


class FeatureTable:
    """Every named column of one symbol, computed vectorised over its whole history."""

    def __init__(self, specs: Mapping[str, IndicatorSpec], bars: Ohlcv) -> None:
        self.arrays: dict[str, FloatArray] = compute_all(specs, bars)
        self._lists = {name: _column(values) for name, values in self.arrays.items()}
        self.length = len(bars)
        self._row_type = row_type(self._lists)

    def row(self, i: int = 0) -> ArrayRow:
        """A row at bar ``i``; move it with ``row.at(j)`` instead of building a new one."""
        return self._row_type(self._lists, i)


def _column(values: FloatArray) -> Sequence[float]:
    """A column as the row reads it: a flat copy of the numpy buffer (``array('d')``), indexed
    into the same Python floats ``tolist()`` would give, without building a million of them for
    the few bars a strategy is called on. The buffer is read in place (a byte view), not through
    ``tobytes``, which would copy every column once more on its way in."""
    column = array("d")
    if values.dtype != np.float64 or values.ndim != 1:
        return list(values.tolist())
    column.frombytes(np.ascontiguousarray(values).data.cast("B"))
    return column


class LiveRow:
    """The live ``Row``: the current bar's values plus the last ``history`` bars'."""

    __slots__ = ("_rows",)

    def __init__(self, rows: deque[dict[str, float]]) -> None:
        self._rows = rows

    def __getattr__(self, name: str) -> float:
        try:
            return self._rows[-1][name]
        except (KeyError, IndexError):
            raise AttributeError(f"no indicator named {name!r}") from None

    def __getitem__(self, name: str) -> float:
        return self._rows[-1][name]

    def prev(self, name: str, n: int = 1) -> float:
        if n < 1 or n >= len(self._rows):
            return NAN
        return self._rows[-1 - n][name]


class LiveFeatures:
    """Incremental features of one symbol: ``update(bar)`` per closed bar, oldest first."""

    def __init__(self, specs: Mapping[str, IndicatorSpec], history: int = 1) -> None:
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        self._steps = {name: incremental(spec) for name, spec in specs.items()}
        self._rows: deque[dict[str, float]] = deque(maxlen=history + 1)
        self.row = LiveRow(self._rows)

    def update(self, bar: Bar) -> LiveRow:
        values: dict[str, float] = {}
        for name, step in self._steps.items():
            value = step(bar)
            values[name] = NAN if value is None else value
        self._rows.append(values)
        return self.row
