"""Indicator specifications: what a strategy wants computed, not how.

A strategy returns ``{"ema240": ema(240), ...}`` from ``Strategy.indicators()``. The spec is a
plain hashable value, so the backtest can compute every column vectorised up front and the live
engine can build the incremental form of the very same thing (``strategies.features`` maps a spec
to both). Names of the bar fields a spec can read: open, high, low, close, volume.

Units are alphadesk.indicators' own: ratios are fractions (``pct_change`` 0.05 means +5 %,
``bar_spread`` and ``bb_width`` are fractions), RSI/DI/ADX are 0-100. Strategies keep the seed's
percent thresholds in their params and divide by 100 where they compare.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("open", "high", "low", "close", "volume")

Arg = int | float | str


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """``kind`` names the computation; ``args`` are its sorted keyword arguments."""

    kind: str
    args: tuple[tuple[str, Arg], ...] = ()

    def arg(self, name: str) -> Arg:
        for key, value in self.args:
            if key == name:
                return value
        raise KeyError(f"{self.kind} has no argument {name!r}")

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args)
        return f"{self.kind}({inner})"


def _spec(kind: str, **args: Arg) -> IndicatorSpec:
    for key, value in args.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{kind}.{key} must be int, float or str, got {value!r}")
        if key == "field" and value not in FIELDS:
            raise ValueError(f"{kind}.field must be one of {FIELDS}, got {value!r}")
        if key in ("period", "window", "periods") and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{kind}.{key} must be an integer >= 1, got {value!r}")
    return IndicatorSpec(kind, tuple(sorted(args.items())))


def source(field: str = "close") -> IndicatorSpec:
    """The bar's own field, so ``ind.prev("close")`` works like any indicator."""
    return _spec("source", field=field)


def lag(field: str, periods: int) -> IndicatorSpec:
    """``field`` of the bar ``periods`` bars before the current one (NaN before that)."""
    return _spec("lag", field=field, periods=periods)


def ema(period: int, field: str = "close") -> IndicatorSpec:
    """TA-Lib EMA: SMA-seeded, first value at index period - 1."""
    return _spec("ema", period=period, field=field)


def sma(period: int, field: str = "close") -> IndicatorSpec:
    return _spec("sma", period=period, field=field)


def rsi(period: int, field: str = "close") -> IndicatorSpec:
    """Wilder RSI, TA-Lib convention."""
    return _spec("rsi", period=period, field=field)


def atr(period: int) -> IndicatorSpec:
    return _spec("atr", period=period)


def adx(period: int) -> IndicatorSpec:
    return _spec("adx", period=period)


def plus_di(period: int) -> IndicatorSpec:
    return _spec("plus_di", period=period)


def minus_di(period: int) -> IndicatorSpec:
    return _spec("minus_di", period=period)


def bb_upper(period: int, k: float, ddof: int = 0) -> IndicatorSpec:
    """Upper Bollinger band; ``ddof=1`` is pandas' sample std (Momentum), 0 is TA-Lib's."""
    return _spec("bb_upper", period=period, k=float(k), ddof=ddof)


def bb_middle(period: int) -> IndicatorSpec:
    return _spec("sma", period=period, field="close")


def bb_lower(period: int, k: float, ddof: int = 0) -> IndicatorSpec:
    return _spec("bb_lower", period=period, k=float(k), ddof=ddof)


def bb_width(period: int, k: float, ddof: int = 0) -> IndicatorSpec:
    """(upper - lower) / middle."""
    return _spec("bb_width", period=period, k=float(k), ddof=ddof)


def bb_width_percentile(period: int, k: float, ddof: int, window: int) -> IndicatorSpec:
    """Fraction of the other ``window - 1`` widths of the window strictly below the current."""
    return _spec("bb_width_pct", period=period, k=float(k), ddof=ddof, window=window)


def returns_std(window: int, ddof: int = 1) -> IndicatorSpec:
    """Rolling std of fractional 1-bar close returns (pandas ``pct_change().rolling().std()``)."""
    return _spec("returns_std", window=window, ddof=ddof)


def pct_change(periods: int, field: str = "close") -> IndicatorSpec:
    """Fractional change of ``field`` over ``periods`` bars: x / x[-periods] - 1."""
    return _spec("pct_change", periods=periods, field=field)


def open_close_change(lookback: int) -> IndicatorSpec:
    """close / open[-lookback] - 1 (LXAlgo's pump gate reads open[-13] with lookback 12)."""
    return _spec("open_close_change", lookback=lookback)


def bar_spread() -> IndicatorSpec:
    """(high - low) / close of the bar, a fraction."""
    return _spec("bar_spread")


def relative_volume(period: int) -> IndicatorSpec:
    """volume / SMA(period) of volume, the current bar included (Momentum's RVR)."""
    return _spec("relative_volume", period=period)
