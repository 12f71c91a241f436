"""The built-in strategies' parameters: the seed's defaults and the range checks that name a field.

Kept apart from the strategies' rules, and interpreted in the mypyc build (scripts/build_native.py)
as the frozen domain values are: a compiled dataclass checks its fields' types on entry and would
refuse a wrong one with mypyc's TypeError before ``__post_init__`` could name the field. Overrides
reach these classes through ``params.override`` (values coerced to each field's type first), and
each strategy module re-exports its own params class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alphadesk.strategies.params import require


@dataclass(frozen=True, slots=True)
class EmaCrossParams:
    symbols: tuple[str, ...] = ("BTCUSDT",)
    fast: int = 12
    slow: int = 26
    equity_fraction: Decimal = Decimal(1)
    leverage: Decimal = Decimal(1)
    timeframe_min: int = 5

    def __post_init__(self) -> None:
        require("fast", self.fast, self.fast >= 1, "must be >= 1")
        require("slow", self.slow, self.slow > self.fast, "must be > fast")
        require(
            "equity_fraction", self.equity_fraction, 0 < self.equity_fraction <= 1, "0 < x <= 1"
        )
        require("leverage", self.leverage, self.leverage > 0, "must be > 0")
        require("timeframe_min", self.timeframe_min, self.timeframe_min >= 1, "must be >= 1")


@dataclass(frozen=True, slots=True)
class AssetRisk:
    """Per-asset protection in percent of the entry: SL above, TP below, trailing distance and
    the profit at which the trailing stop arms."""

    symbol: str
    stop_loss_pct: Decimal
    take_profit_pct: Decimal
    trailing_pct: Decimal
    trailing_activation_pct: Decimal

    def __post_init__(self) -> None:
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_pct", "trailing_activation_pct"):
            value = getattr(self, name)
            require(f"{self.symbol}.{name}", value, isinstance(value, Decimal), "must be Decimal")
            require(f"{self.symbol}.{name}", value, 0 < value < 100, "must be in (0, 100)")


def _risk(symbol: str, sl: str, tp: str, trail: str, arm: str) -> AssetRisk:
    return AssetRisk(symbol, Decimal(sl), Decimal(tp), Decimal(trail), Decimal(arm))


DEFAULT_RISK = (
    _risk("BTCUSDT", "1.0", "3.0", "1.0", "2.0"),
    _risk("ETHUSDT", "1.5", "4.5", "2.0", "2.0"),
    _risk("SOLUSDT", "1.5", "6.0", "2.0", "3.0"),
)


def _as_risk(item: Any) -> AssetRisk:
    if isinstance(item, AssetRisk):
        return item
    if isinstance(item, Mapping):
        try:
            return AssetRisk(
                str(item["symbol"]),
                *(
                    Decimal(str(item[k]))
                    for k in (
                        "stop_loss_pct",
                        "take_profit_pct",
                        "trailing_pct",
                        "trailing_activation_pct",
                    )
                ),
            )
        except KeyError as exc:
            require("asset_risk", item, False, f"missing {exc.args[0]!r}")
    require("asset_risk", item, False, "must be an AssetRisk or a mapping")
    raise AssertionError  # unreachable: require raised


@dataclass(frozen=True, slots=True)
class ShortSellerParams:
    asset_risk: tuple[AssetRisk, ...] = DEFAULT_RISK
    ema_fast: int = 240
    ema_slow: int = 600
    max_daily_crosses: int = 12
    cooldown_min: int = 60
    max_hold_hours: int = 24
    allocation: Decimal = Decimal("0.07")
    leverage: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        risk = tuple(_as_risk(r) for r in self.asset_risk)
        object.__setattr__(self, "asset_risk", risk)
        names = [r.symbol for r in risk]
        require(
            "asset_risk",
            names,
            bool(names) and len(set(names)) == len(names),
            "needs at least one symbol, each once",
        )
        require("ema_fast", self.ema_fast, self.ema_fast >= 1, "must be >= 1")
        require("ema_slow", self.ema_slow, self.ema_slow >= 1, "must be >= 1")
        require("max_daily_crosses", self.max_daily_crosses, self.max_daily_crosses >= 1, ">= 1")
        require("cooldown_min", self.cooldown_min, self.cooldown_min >= 0, "must be >= 0")
        require("max_hold_hours", self.max_hold_hours, self.max_hold_hours >= 1, "must be >= 1")
        require("allocation", self.allocation, 0 < self.allocation <= 1, "must be in (0, 1]")
        require("leverage", self.leverage, 0 < self.leverage <= 100, "must be in (0, 100]")

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(r.symbol for r in self.asset_risk)


UNIVERSE: tuple[str, ...] = (
    "1000PEPEUSDT",
    "ADAUSDT",
    "AIAUSDT",
    "APEXUSDT",
    "APTUSDT",
    "ARBUSDT",
    "ASTERUSDT",
    "AVAXUSDT",
    "BLESSUSDT",
    "BTCUSDT",
    "COAIUSDT",
    "ENAUSDT",
    "ETHUSDT",
    "FARTCOINUSDT",
    "HYPEUSDT",
    "MYXUSDT",
    "ONDOUSDT",
    "PUMPFUNUSDT",
    "SOLUSDT",
    "SUIUSDT",
    "TRUMPUSDT",
    "USELESSUSDT",
    "WIFUSDT",
    "WLDUSDT",
    "WLFIUSDT",
    "XRPUSDT",
    "LINKUSDT",
    "DOGEUSDT",
    "LTCUSDT",
    "OPUSDT",
    "PENGUUSDT",
    "SEIUSDT",
    "BNBUSDT",
    "NEARUSDT",
    "DOTUSDT",
    "GALAUSDT",
    "SPXUSDT",
    "XAUTUSDT",
    "EIGENUSDT",
    "1000BONKUSDT",
    "ATOMUSDT",
    "LDOUSDT",
    "TAOUSDT",
    "XPLUSDT",
)


@dataclass(frozen=True, slots=True)
class MomentumParams:
    symbols: tuple[str, ...] = UNIVERSE
    bb_period: int = 20
    bb_k: float = 2.0
    bb_ddof: int = 1
    percentile_window: int = 90
    max_width_percentile: float = 0.35
    rvr_period: int = 20
    min_rvr: float = 2.0
    sma_period: int = 20
    max_positions: int = 3
    risk: Decimal = Decimal("0.05")
    stop_distance: Decimal = Decimal("0.10")
    cap_fraction: Decimal = Decimal("0.20")
    trailing_pct: Decimal = Decimal(10)
    daily_loss_pct: Decimal = Decimal(3)
    weekly_loss_pct: Decimal = Decimal(8)
    monthly_loss_pct: Decimal = Decimal(15)
    max_drawdown_pct: Decimal = Decimal(20)
    weekly_size_factor: Decimal = Decimal("0.5")
    use_btc_regime_filter: bool = False
    btc_symbol: str = "BTCUSDT"
    btc_sma_bars: int = 1200
    btc_adx_bars: int = 84
    btc_min_adx: float = 25.0

    def __post_init__(self) -> None:
        for name in (
            "bb_period",
            "percentile_window",
            "rvr_period",
            "sma_period",
            "max_positions",
            "btc_sma_bars",
            "btc_adx_bars",
        ):
            value = getattr(self, name)
            require(name, value, value >= 1, "must be >= 1")
        require("bb_ddof", self.bb_ddof, self.bb_ddof in (0, 1), "must be 0 or 1")
        require("percentile_window", self.percentile_window, self.percentile_window >= 2, ">= 2")
        require("bb_k", self.bb_k, math.isfinite(self.bb_k) and self.bb_k > 0, "must be > 0")
        for name in ("risk", "stop_distance", "cap_fraction", "weekly_size_factor"):
            value = getattr(self, name)
            require(name, value, 0 < value <= 1, "must be in (0, 1]")
        for name in (
            "trailing_pct",
            "daily_loss_pct",
            "weekly_loss_pct",
            "monthly_loss_pct",
            "max_drawdown_pct",
        ):
            value = getattr(self, name)
            require(name, value, 0 < value < 100, "must be in (0, 100)")


@dataclass(frozen=True, slots=True)
class LxAlgoParams:
    symbols: tuple[str, ...] = ()
    min_turnover_24h_usdt: Decimal = Decimal(10_000_000)
    rsi_period: int = 84
    window: int = 144
    score_rsi_min: float = 60.0
    score_volume_change_min_pct: float = 50.0
    score_spread_max_pct: float = 3.0
    score_volatility_min: float = 0.005
    score_price_change_min_pct: float = 5.0
    rule8_min_score: int = 2
    rule8_max_spread_pct: float = 4.0
    rule6_rsi_min: float = 55.0
    rule6_volatility_min: float = 0.008
    pump_threshold_pct: float = 8.0
    pump_lookback: int = 12
    bucket_hours: int = 4
    bucket_start_hour_utc: int = 0
    max_active_trades: int = 20
    position_usdt: Decimal = Decimal(200)
    take_profit_pct: Decimal = Decimal(30)
    stop_loss_pct: Decimal = Decimal(8)
    trailing_pct: Decimal = Decimal(10)
    trailing_activation_pct: Decimal = Decimal(20)
    breakeven_pct: Decimal = Decimal(8)
    negative_pnl_exit_hours: int = 8
    expiry_hours: int = 72
    daily_drawdown_pct: Decimal = Decimal(2)
    weekly_reduce_pct: Decimal = Decimal(4)
    weekly_halt_pct: Decimal = Decimal(6)
    weekly_size_factor: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        for name in (
            "rsi_period",
            "window",
            "pump_lookback",
            "max_active_trades",
            "bucket_hours",
            "negative_pnl_exit_hours",
            "expiry_hours",
        ):
            value = getattr(self, name)
            require(name, value, value >= 1, "must be >= 1")
        require(
            "bucket_start_hour_utc",
            self.bucket_start_hour_utc,
            0 <= self.bucket_start_hour_utc < 24,
            "must be in [0, 24)",
        )
        require("position_usdt", self.position_usdt, self.position_usdt > 0, "must be > 0")
        require(
            "min_turnover_24h_usdt",
            self.min_turnover_24h_usdt,
            self.min_turnover_24h_usdt >= 0,
            "must be >= 0",
        )
        for name in (
            "take_profit_pct",
            "trailing_pct",
            "trailing_activation_pct",
            "breakeven_pct",
            "daily_drawdown_pct",
            "weekly_reduce_pct",
            "weekly_halt_pct",
        ):
            value = getattr(self, name)
            require(name, value, value > 0, "must be > 0")
        require("stop_loss_pct", self.stop_loss_pct, 0 < self.stop_loss_pct < 100, "in (0, 100)")
        require(
            "weekly_halt_pct",
            self.weekly_halt_pct,
            self.weekly_halt_pct >= self.weekly_reduce_pct,
            "must be >= weekly_reduce_pct",
        )
        require(
            "weekly_size_factor",
            self.weekly_size_factor,
            0 < self.weekly_size_factor <= 1,
            "must be in (0, 1]",
        )
