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
from typing import Final

from alphadesk.domain import checks
from alphadesk.domain.decimals import to_decimal as to_decimal
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.native_init import init_signature, is_native, native_value
from alphadesk.domain.slots import slot_maker

MINUTE_MS: Final = 60_000


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

    def __new__(cls, *_args: object, **_kwargs: object) -> Bar:
        """Only allocates, for the module's maker (why: :mod:`~alphadesk.domain.native_init`)."""
        return object.__new__(cls)

    def __post_init__(self) -> None:
        converted = check_bar(
            self.symbol, self.interval_min, self.open_time_ms, self.open, self.high, self.low,
            self.close, self.volume, self.turnover,
        )  # fmt: skip
        if converted:
            for name, value in converted.items():
                object.__setattr__(self, name, value)

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


_PRICES: Final = ("open", "high", "low", "close", "volume", "turnover")


def check_bar(
    symbol: object,
    interval_min: object,
    open_time_ms: object,
    open: object,
    high: object,
    low: object,
    close: object,
    volume: object,
    turnover: object = 0.0,
) -> dict[str, float] | None:
    """A bar's field types (values are the feed's business: ``backtest.data`` checks whole
    series): a str symbol, ints that are not bools, and float prices, an int price made a float
    (a compiled Bar stores floats whatever it is given; here both builds do the same). Returns
    the converted prices, None when there are none; raises InvalidField naming the field."""
    if type(symbol) is not str:
        raise InvalidField("bar.symbol", symbol, "must be str")
    for name, whole in (("interval_min", interval_min), ("open_time_ms", open_time_ms)):
        if type(whole) is not int:
            raise InvalidField(f"bar.{name}", whole, "must be an int")
    converted: dict[str, float] | None = None
    for name, price in zip(_PRICES, (open, high, low, close, volume, turnover), strict=True):
        if isinstance(price, float):
            continue
        if type(price) is not int:
            raise InvalidField(f"bar.{name}", price, "must be a float")
        if converted is None:
            converted = {}
        converted[name] = float(price)
    return converted


_NATIVE: Final = is_native(Bar)
_slot_make: Final = None if _NATIVE else slot_maker(Bar)
if _NATIVE:
    native_value(Bar, "bar", check_bar, check_first=True)
else:
    init_signature(Bar)


def new_bar(
    symbol: str,
    interval_min: int,
    open_time_ms: int,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    turnover: float,
) -> Bar:
    """``Bar(...)`` with every field given, for the backtest loop (one per strategy call): a Bar
    has no checks to skip, so this is the same object, its fields stored directly (native stores
    compiled, slot writes interpreted) for a fraction of the constructor's cost."""
    if _slot_make is not None:
        made: Bar = _slot_make(
            symbol, interval_min, open_time_ms, open, high, low, close, volume, turnover
        )
        return made
    made = Bar.__new__(Bar)
    made.symbol = symbol  # type: ignore[misc]  # frozen for everyone else: this is its maker
    made.interval_min = interval_min  # type: ignore[misc]
    made.open_time_ms = open_time_ms  # type: ignore[misc]
    made.open = open  # type: ignore[misc]
    made.high = high  # type: ignore[misc]
    made.low = low  # type: ignore[misc]
    made.close = close  # type: ignore[misc]
    made.volume = volume  # type: ignore[misc]
    made.turnover = turnover  # type: ignore[misc]
    return made
