"""EMA crossover: the minimal reference strategy, shaped so backtesting.py can reproduce it.

Long only: enter when EMA(fast) crosses above EMA(slow) on a closed bar, exit when it crosses
below. A cross is backtesting.py's ``crossover(a, b)``: ``a[-2] < b[-2] and a[-1] > b[-1]``, so
equal values on the earlier bar are not a cross. Sized with all equity at leverage 1; with fills at
the next bar's open and zero fees, backtesting.py's ``self.buy()`` / ``self.position.close()`` on
the same EMAs gives the same trades.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from alphadesk.domain.bars import Bar
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EquityFraction
from alphadesk.strategies import specs
from alphadesk.strategies.api import Columns, Row, Strategy, StrategyContext, WakeMask
from alphadesk.strategies.builtin_params import EmaCrossParams
from alphadesk.strategies.features import previous
from alphadesk.strategies.portfolio_reads import holds
from alphadesk.strategies.rows import ArrayRow
from alphadesk.strategies.specs import IndicatorSpec

_BUY: Final = Side.BUY
"""Bound once: a C static on the compiled build, where ``Side.BUY`` is a dict lookup of the
imported name and an attribute read of the enum class per entry."""


def _emas(ind: Row) -> tuple[float, float, float, float]:
    """The fast and slow EMA at this bar and the one before. The two branches read the same;
    compiled, the first calls the backtest's (compiled) ArrayRow directly, with unboxed floats,
    where a read through the ``Row`` protocol is a generic item lookup or method call."""
    if type(ind) is ArrayRow:
        return ind["ema_fast"], ind["ema_slow"], ind.prev("ema_fast"), ind.prev("ema_slow")
    return ind["ema_fast"], ind["ema_slow"], ind.prev("ema_fast"), ind.prev("ema_slow")


class EmaCross(Strategy[EmaCrossParams]):
    name = "ema_cross"
    timeframe_min = 5
    params_type = EmaCrossParams
    warmup_bars = 200

    def __init__(self, params: EmaCrossParams | None = None) -> None:
        super().__init__(params)
        self.timeframe_min = self.params.timeframe_min
        self._size = EquityFraction(
            fraction=self.params.equity_fraction, leverage=self.params.leverage
        )

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {"ema_fast": specs.ema(self.params.fast), "ema_slow": specs.ema(self.params.slow)}

    def wake_bars(self, symbol: str, columns: Columns) -> WakeMask:
        """Cross bars: flat, only an up-cross can enter; otherwise a cross either way can act
        (an exit when held, an entry attempt while an entry is still in flight)."""
        fast, slow = columns["ema_fast"], columns["ema_slow"]
        prev_fast, prev_slow = previous(fast), previous(slow)
        up = (prev_fast < prev_slow) & (fast > slow)
        down = (prev_fast > prev_slow) & (fast < slow)
        return up, up | down

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        fast, slow, prev_fast, prev_slow = _emas(ind)
        symbol = bar.symbol  # once: a generic attribute read on the compiled build
        held = holds(ctx.portfolio, symbol)
        if not held and prev_fast < prev_slow and fast > slow:
            ctx.enter(
                symbol,
                _BUY,
                self._size,
                "ema_cross_up",
                ref_price=to_decimal(float(bar.close)),
            )
        elif held and prev_fast > prev_slow and fast < slow:
            ctx.exit(symbol, "ema_cross_down")
