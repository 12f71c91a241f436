"""Closed candles: the only market data a strategy decides on.

Bar prices are observations, not money we hold, and strategies run indicator maths on them at
hundreds of thousands of bars a second, so they are floats. Anything that becomes an order or a
fill crosses into Decimal through :func:`to_decimal` (defined in ``decimals``, re-exported here),
which keeps the shortest repr (the exchange's own digits for prices read from Bybit's strings or
from the bundled CSVs) instead of the binary expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alphadesk.domain import checks
from alphadesk.domain.decimals import to_decimal as to_decimal

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    interval_min: int
    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float = 0.0

    @property
    def close_time_ms(self) -> int:
        """The instant the bar is complete; decisions on it are stamped with this time."""
        return self.open_time_ms + self.interval_min * MINUTE_MS

    @property
    def open_time(self) -> datetime:
        return checks.from_epoch_ms("bar.open_time_ms", self.open_time_ms)

    @property
    def close_time(self) -> datetime:
        return checks.from_epoch_ms("bar.close_time_ms", self.close_time_ms)
