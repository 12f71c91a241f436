"""SMA trend with an RSI filter: a worked example of a strategy in a file of your own.

Run it (no install needed):

    alphadesk backtest --strategy docs/examples/my_strategy.py:SmaTrend \
        --data src/alphadesk/data/market/BTCUSDT_5m_*.csv --param slow=96 --report sma.html

Long when the close crosses above its SMA(slow) while RSI(rsi_period) is below rsi_max (a
breakout that is not already overbought); out when the close crosses back below the SMA, or at a
stop ``stop_pct`` % under the entry, which the venue holds (so it fires inside a bar, at the stop
price, even between two decisions). Every decision is on a closed bar; orders fill at the next
bar's open. See docs/strategies.md for the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EquityFraction
from alphadesk.strategies import specs
from alphadesk.strategies.api import Row, Strategy, StrategyContext, holds
from alphadesk.strategies.params import require
from alphadesk.strategies.specs import IndicatorSpec


@dataclass(frozen=True, slots=True)
class SmaTrendParams:
    """Every field is a ``--param``: ``--param slow=96 --param symbols=BTCUSDT,ETHUSDT``."""

    symbols: tuple[str, ...] = ("BTCUSDT",)
    slow: int = 48
    rsi_period: int = 14
    rsi_max: float = 70.0
    stop_pct: Decimal = Decimal(3)
    equity_fraction: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        # checks run on every override: a bad value stops the run naming the parameter
        require("slow", self.slow, self.slow >= 2, "must be >= 2")
        require("rsi_period", self.rsi_period, self.rsi_period >= 2, "must be >= 2")
        require("rsi_max", self.rsi_max, 0 < self.rsi_max <= 100, "must be in (0, 100]")
        require("stop_pct", self.stop_pct, 0 < self.stop_pct < 100, "must be in (0, 100)")
        require(
            "equity_fraction", self.equity_fraction, 0 < self.equity_fraction <= 1,
            "must be in (0, 1]",
        )


class SmaTrend(Strategy[SmaTrendParams]):
    """SMA trend with an RSI filter (docs/examples/my_strategy.py)."""

    name = "sma_trend"  # also the backtest's bot id prefix and the report's title
    timeframe_min = 5  # the bars it decides on
    params_type = SmaTrendParams
    history = 1  # how far back ind.prev(...) reaches

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        # computed by the engine, per symbol; price-level ones are drawn on the report's candles
        return {
            "sma": specs.sma(self.params.slow),
            "rsi": specs.rsi(self.params.rsi_period),
            "close": specs.source("close"),
        }

    def on_bar(self, ctx: StrategyContext, bar: Bar, ind: Row) -> None:
        close, sma = ind.close, ind.sma
        prev_close, prev_sma = ind.prev("close"), ind.prev("sma")
        if sma != sma or prev_sma != prev_sma:  # NaN: still warming up
            return
        crossed_up = prev_close <= prev_sma and close > sma
        crossed_down = prev_close >= prev_sma and close < sma
        if not holds(ctx.portfolio, bar.symbol):
            if crossed_up and ind.rsi < self.params.rsi_max:
                price = to_decimal(close)
                ctx.enter(
                    bar.symbol,
                    Side.BUY,
                    EquityFraction(fraction=self.params.equity_fraction),
                    "sma_cross_up",
                    ref_price=price,
                    stop_loss=price * (1 - self.params.stop_pct / 100),
                )
        elif crossed_down:
            ctx.exit(bar.symbol, "sma_cross_down")
