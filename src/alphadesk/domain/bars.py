"""Closed candles: the only market data a strategy decides on.

Bar prices are observations, not money we hold, and strategies run indicator maths on them at
hundreds of thousands of bars a second, so they are floats. Anything that becomes an order or a
fill crosses into Decimal through :func:`to_decimal`, which keeps the shortest repr (the exchange's
own digits for prices read from Bybit's strings or from the bundled CSVs) instead of the binary
expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alphadesk.domain import checks

MINUTE_MS = 60_000


DECIMAL_CACHE_SIZE = 4096
"""At most this many positive floats keep their Decimal (the cache starts over when full)."""
_decimals: dict[float, Decimal] = {}


def to_decimal(value: float) -> Decimal:
    """``Decimal(repr(float(value)))``, remembered for positive floats: the same few prices (a
    step's closes, marked on every equity read) are converted over and over. A Decimal is
    immutable, so handing out the same one is the same result. Only values > 0 are kept, so -0.0
    (equal to 0.0 as a key) and NaN (never equal to itself) are converted afresh, as before."""
    x = float(value)
    cached = _decimals.get(x)
    if cached is not None:
        return cached
    out = Decimal(repr(x))
    if x > 0:
        if len(_decimals) >= DECIMAL_CACHE_SIZE:
            _decimals.clear()
        _decimals[x] = out
    return out


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
