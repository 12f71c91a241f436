"""The knobs of the simulated venue: fees, slippage, starting leverage and funding.

Defaults are Bybit's VIP0 rates for USDT perpetuals (0.055 % taker, 0.02 % maker), no slippage,
leverage 10 and a 0.01 % funding rate, so an untuned backtest is neither flattering nor punitive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField


@dataclass(frozen=True, slots=True)
class Slippage:
    """Adverse price offset for taker (market and triggered) fills: ``ticks`` ticks plus ``bps``.

    Limit fills never slip: they fill at their own price or better.
    """

    ticks: int = 0
    bps: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not isinstance(self.ticks, int) or isinstance(self.ticks, bool) or self.ticks < 0:
            raise InvalidField("slippage.ticks", self.ticks, "must be an int >= 0")
        checks.non_negative("slippage.bps", self.bps)

    @property
    def is_zero(self) -> bool:
        return self.ticks == 0 and not self.bps  # bps: a finite Decimal (checked), no int made


@dataclass(frozen=True, slots=True)
class SimConfig:
    taker_fee: Decimal = Decimal("0.00055")
    maker_fee: Decimal = Decimal("0.0002")
    slippage: Slippage = field(default_factory=Slippage)
    default_leverage: Decimal = Decimal(10)
    max_leverage: Decimal = Decimal(100)
    funding_rate: Decimal = Decimal("0.0001")
    funding_interval_ms: int = 8 * 3_600_000
    """The settlement interval of a symbol whose rules (``Instrument.funding_interval_min``) and
    recorded rate history do not say one (see :mod:`~alphadesk.adapters.sim.funding_desk`)."""
    check_margin: bool = True
    emit_snapshots: bool = False
    """Append a PositionReported and a WalletReported after every fill (the simulator's WS push)."""
    keep_history: bool = True
    """Keep the execution and closed-PnL history that ``executions``/``execution``/``closed_pnl``
    page through, and every finished order (``order``, ``order_history``; without history they
    know the open orders only, and a finished one is "order not exists"). A backtest never asks
    for any of it (the engine keeps its own fills), so it turns it off and a run's memory stays
    flat in its orders; nothing else the engine does reads it. Link ids stay taken either way."""

    def __post_init__(self) -> None:
        checks.decimal("config.taker_fee", self.taker_fee)
        checks.decimal("config.maker_fee", self.maker_fee)
        checks.positive("config.default_leverage", self.default_leverage)
        checks.positive("config.max_leverage", self.max_leverage)
        checks.decimal("config.funding_rate", self.funding_rate)
        if self.funding_interval_ms <= 0 or 86_400_000 % self.funding_interval_ms:
            raise InvalidField(
                "config.funding_interval_ms", self.funding_interval_ms, "must divide one day"
            )
