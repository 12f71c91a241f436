"""What a backtest run is configured with, beyond the strategy and the candles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from alphadesk.adapters.sim.config import SimConfig, Slippage
from alphadesk.domain import checks
from alphadesk.domain.instruments import Instrument
from alphadesk.engine.risk import RiskLimits
from alphadesk.engine.trading_state import KillSwitchLimits


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """Defaults: 10,000 USDT, Bybit VIP0 fees (0.055 % taker, 0.02 % maker), no slippage,
    funding from the rate history found beside the candles, else (``funding_history`` off, or no
    history for a symbol) the constant fallback ``funding_rate``, 0.01 % per settlement (on each
    symbol's interval); no extra risk limits. ``skip_quiet_bars`` lets a strategy that declares
    its wake-up bars (``wake_bars``) skip the others; the results are the same. With it
    off the loop visits every bar and calls the strategy on each (the reference run)."""

    initial_equity: Decimal = Decimal(10_000)
    taker_fee: Decimal = Decimal("0.00055")
    maker_fee: Decimal = Decimal("0.0002")
    slippage_bps: Decimal = Decimal(0)
    funding_rate: Decimal = Decimal("0.0001")
    funding_history: bool = True
    bot_id: str | None = None
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    limits: RiskLimits = field(default_factory=RiskLimits)
    kill_limits: KillSwitchLimits = field(default_factory=KillSwitchLimits)
    skip_quiet_bars: bool = True
    leverage: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        checks.positive("settings.initial_equity", self.initial_equity)
        checks.non_negative("settings.slippage_bps", self.slippage_bps)
        checks.decimal("settings.taker_fee", self.taker_fee)
        checks.decimal("settings.maker_fee", self.maker_fee)
        checks.decimal("settings.funding_rate", self.funding_rate)

    def sim_config(self, *, keep_history: bool = True) -> SimConfig:
        """The matching engine's fees, slippage, funding fallback and leverage, as a backtest and
        a paper bot both run it (``keep_history`` off when nobody pages the venue's history)."""
        return SimConfig(
            taker_fee=self.taker_fee,
            maker_fee=self.maker_fee,
            slippage=Slippage(bps=self.slippage_bps),
            funding_rate=self.funding_rate,
            default_leverage=self.leverage,
            keep_history=keep_history,
        )
