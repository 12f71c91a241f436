"""Momentum ("Apex"): long Bollinger squeeze breakouts on 4-hour closes (seed_system.md 2.3).

On each closed 4-hour bar a flat symbol is a candidate when its Bollinger(20, 2, sample std)
width ranks below 0.35 among the previous 89 widths, close > upper band, relative volume > 2 and
close > SMA20. Candidates of one close time are ranked by strength = mean(1 - width rank,
min(RVR / 5, 1), min((close - SMA20) / SMA20 / 0.10, 1)) (ties by symbol) and the best fill the
free slots of at most 3 positions; held symbols are skipped. Each entry is sized RiskFraction(5 %
risk, 10 % stop, 20 % cap) x the weekly factor, with an exchange trailing stop of 10 % of the
entry, active at once. A held position exits when a closed bar's close < SMA20 (``ma_exit``).

Risk limits on equity (``drawdown.MomentumLimits``): day <= -3 % no entries for the rest of the
UTC day, ISO week <= -8 % half size until the week changes, month <= -15 % no entries until the
month changes, 20 % below the equity peak no entries (the seed's TODO).

Defects not copied: the seed scanned the candle that had just opened (so RVR was near 0 and it
almost never entered) and closed every position whenever it stopped. The optional BTC regime filter
(off by default, as in the seed) is approximated on 4-hour BTC bars: close > SMA(1200 bars = 200
days) and ADX(84 bars = 14 days) > 25; the seed's "recent new high" leg is not implemented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np

from alphadesk.domain.bars import Bar
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import RiskFraction
from alphadesk.strategies import specs
from alphadesk.strategies.api import Columns, Row, Strategy, StrategyContext, WakeMask
from alphadesk.strategies.builtin_params import MomentumParams
from alphadesk.strategies.drawdown import MomentumLimits
from alphadesk.strategies.portfolio_reads import holds
from alphadesk.strategies.protection import trailing
from alphadesk.strategies.rows import ArrayRow
from alphadesk.strategies.specs import IndicatorSpec

HUNDRED = Decimal(100)
_BUY: Final = Side.BUY
"""Bound once: a C static on the compiled build, where ``Side.BUY`` is a dict lookup of the
imported name and an attribute read of the enum class per entry."""


def _sma(ind: Row) -> float:
    """``ind["sma"]``, read in two branches that read the same: compiled, the first calls the
    backtest's (compiled) ArrayRow directly, unboxed, where the protocol's read is a generic item
    lookup (each holding bar reads it)."""
    if type(ind) is ArrayRow:
        return ind["sma"]
    return ind["sma"]


@dataclass(slots=True, init=False)
class Candidate:
    """A breakout seen on one bar, ranked when the bars close.

    The ``__init__`` is written out (``init=False``): the one ``dataclass`` generates is
    interpreted code even on the compiled build (one per breakout bar)."""

    symbol: str
    strength: float
    close: float
    """The bar's close; it becomes a Decimal (``to_decimal``) only for a candidate that enters."""

    def __init__(self, symbol: str, strength: float, close: float) -> None:
        self.symbol = symbol
        self.strength = strength
        self.close = close


class Momentum(Strategy[MomentumParams]):
    name = "momentum"
    timeframe_min = 240
    params_type = MomentumParams
    warmup_bars = 140

    def __init__(self, params: MomentumParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._limits = MomentumLimits(
            daily_pct=p.daily_loss_pct / HUNDRED,
            weekly_pct=p.weekly_loss_pct / HUNDRED,
            monthly_pct=p.monthly_loss_pct / HUNDRED,
            max_drawdown_pct=p.max_drawdown_pct / HUNDRED,
            reduced_factor=p.weekly_size_factor,
        )
        self._size = RiskFraction(
            risk=p.risk, stop_distance_pct=p.stop_distance, cap_fraction=p.cap_fraction
        )
        # filled by on_bar, handed over and replaced by on_bars_closed only when not empty: most
        # closes have neither, and need no new list or set
        self._candidates: list[Candidate] = []
        self._exiting: set[str] = set()
        self._btc_regime_ok = False
        # read per call, once here: ``params`` is the interpreted base class's attribute and a
        # frozen interpreted dataclass, two generic attribute reads each time on the compiled build
        self._regime_filter = bool(p.use_btc_regime_filter)

    @property
    def limits(self) -> MomentumLimits:
        return self._limits

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        p = self.params
        out = {
            "bb_upper": specs.bb_upper(p.bb_period, p.bb_k, p.bb_ddof),
            "bbw_pct": specs.bb_width_percentile(
                p.bb_period, p.bb_k, p.bb_ddof, p.percentile_window
            ),
            "rvr": specs.relative_volume(p.rvr_period),
            "sma": specs.sma(p.sma_period),
        }
        if p.use_btc_regime_filter:
            out["regime_sma"] = specs.sma(p.btc_sma_bars)
            out["regime_adx"] = specs.adx(p.btc_adx_bars)
        return out

    # ``strength``, ``is_breakout`` and ``on_bar`` read the row in two branches that read the
    # same: compiled, the first calls the backtest's (compiled) ArrayRow directly, with unboxed
    # floats, where a read through the ``Row`` protocol is a generic item lookup

    def strength(self, close: float, ind: Row) -> float:
        """The seed's ranking score in [0, 1] (higher is a stronger breakout)."""
        if type(ind) is ArrayRow:
            sma, width, rvr = ind["sma"], ind["bbw_pct"], ind["rvr"]
        else:
            sma, width, rvr = ind["sma"], ind["bbw_pct"], ind["rvr"]
        return ((1.0 - width) + min(rvr / 5.0, 1.0) + min(((close - sma) / sma) / 0.10, 1.0)) / 3.0

    def is_breakout(self, close: float, ind: Row) -> bool:
        p = self.params
        if type(ind) is ArrayRow:
            return (
                ind["bbw_pct"] < p.max_width_percentile
                and close > ind["bb_upper"]
                and ind["rvr"] > p.min_rvr
                and close > ind["sma"]
            )
        return (
            ind["bbw_pct"] < p.max_width_percentile
            and close > ind["bb_upper"]
            and ind["rvr"] > p.min_rvr
            and close > ind["sma"]
        )

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask | None:
        """Flat: the breakout bars (``is_breakout``, column-wise). Holding, or an order in
        flight: every bar (``ma_exit``). With the BTC regime filter on, BTC on every bar (its
        regime flag is read from the latest BTC bar).

        The period limits read equity in ``on_bars_closed``, which runs only at close times
        with some call. While any symbol is held it is called every bar, so the limits see every
        close; while nothing is held or in flight equity is cash, constant, and
        ``MomentumLimits.update`` is idempotent at constant equity, so the skipped closes
        change nothing a later look does not set the same way."""
        p = self.params
        if p.use_btc_regime_filter and symbol == p.btc_symbol:
            return None
        close = columns["close"]
        breakout = (
            (columns["bbw_pct"] < p.max_width_percentile)
            & (close > columns["bb_upper"])
            & (columns["rvr"] > p.min_rvr)
            & (close > columns["sma"])
        )
        return np.asarray(breakout, dtype=bool), None

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        # the bar's fields once each: generic attribute reads on the compiled build
        symbol, close = bar.symbol, bar.close
        if self._regime_filter:
            p = self.params
            if symbol == p.btc_symbol:
                regime_sma, regime_adx = ind["regime_sma"], ind["regime_adx"]
                self._btc_regime_ok = close > regime_sma and regime_adx > p.btc_min_adx
        if holds(ctx.portfolio, symbol):
            if close < _sma(ind):
                self._exiting.add(symbol)
                ctx.exit(symbol, "ma_exit")
            return
        if self.is_breakout(close, ind):
            strength = self.strength(close, ind)
            self._candidates.append(Candidate(symbol, strength, close))

    def on_bars_closed(self, ctx: StrategyContext, close_time_ms: int) -> None:
        candidates = self._candidates
        if candidates:
            self._candidates = []
        exiting = self._exiting
        if exiting:
            self._exiting = set()
        portfolio = ctx.portfolio
        self._limits.update(close_time_ms, portfolio.equity)
        if not candidates or not self._limits.entries_allowed:
            return
        if self._regime_filter and not self._btc_regime_ok:
            return
        held = sum(1 for s in portfolio.open_positions() if s not in exiting)
        free = self.params.max_positions - held
        if free <= 0:
            return
        size = (
            self._size.scaled(self._limits.size_factor)
            if self._limits.size_factor < 1
            else (self._size)
        )
        ranked = sorted(candidates, key=lambda c: (-c.strength, c.symbol))
        for candidate in ranked:
            if free <= 0:
                break
            if holds(portfolio, candidate.symbol):
                continue
            close = to_decimal(candidate.close)
            ctx.enter(
                candidate.symbol,
                _BUY,
                size,
                "squeeze_breakout",
                ref_price=close,
                trailing=trailing(distance=close * self.params.trailing_pct / HUNDRED),
            )
            free -= 1
