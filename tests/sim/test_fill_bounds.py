"""The matching engine refuses a fill the ledger would refuse, naming the field and the value.

The engine makes its fills without the checking constructor (issue 17): it tests only what its
own state cannot vouch for, the market data's time and price. These drive the engine with such
data and expect the same error the checking constructor raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, OrderType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import (
    EARLIEST_EXEC_MS,
    EARLIEST_EXEC_TIME,
    LATEST_EXEC_MS,
    LATEST_EXEC_TIME,
)

from .kit import HOUR, MIN5, SYM, T0, fills, order

LATEST = to_epoch_ms(LATEST_EXEC_TIME)  # 2100-01-01 00:00 UTC, a funding boundary


def test_the_millisecond_bounds_are_the_datetime_bounds() -> None:
    assert (
        to_epoch_ms(EARLIEST_EXEC_TIME),
        to_epoch_ms(LATEST_EXEC_TIME),
    ) == (EARLIEST_EXEC_MS, LATEST_EXEC_MS)


def test_a_trade_before_2018_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    early = EARLIEST_EXEC_MS - 1
    engine.on_price(SYM, Decimal(50000), early)
    with pytest.raises(InvalidField) as refused:
        engine.place("A", order(Side.BUY, "0.1", "e"), early)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == datetime(2017, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert "2018-01-01" in str(refused.value)


def test_a_trade_from_2100_on_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.on_price(SYM, Decimal(50000), LATEST - HOUR)
    limit = order(Side.BUY, "0.1", "e", price=Decimal(49000), order_type=OrderType.LIMIT)
    engine.place("A", limit, LATEST - HOUR)
    assert engine.position("A", SYM).size == 0  # flat: no settlement falls due, only the trade
    with pytest.raises(InvalidField) as refused:  # the resting limit fills in the next bar
        engine.on_bar(SYM, 48000.0, 48000.0, 48000.0, 48000.0, LATEST, LATEST + MIN5)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == LATEST_EXEC_TIME


def test_the_last_trade_before_2100_is_made(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.on_price(SYM, Decimal(50000), LATEST - 1)
    [fill] = fills(engine.place("A", order(Side.BUY, "0.1", "e"), LATEST - 1).events)
    assert to_epoch_ms(fill.exec_time) == LATEST - 1 and fill.exec_type is ExecType.TRADE


def test_a_settlement_at_2100_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.set_funding_rate(SYM, Decimal("0.0001"))
    engine.on_price(SYM, Decimal(50000), LATEST - HOUR)
    engine.place("A", order(Side.BUY, "0.1", "e"), LATEST - HOUR)
    with pytest.raises(InvalidField) as refused:
        engine.on_bar(SYM, 50000.0, 50000.0, 50000.0, 50000.0, LATEST, LATEST + MIN5)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == LATEST_EXEC_TIME


def test_a_price_past_the_bound_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(balance="1e12")
    limit = order(Side.SELL, "0.001", "e", price=Decimal(60000), order_type=OrderType.LIMIT)
    engine.place("A", limit, T0 + MIN5)
    with pytest.raises(InvalidField) as refused:  # a corrupt bar: 1e13 is no price
        engine.on_bar(SYM, 1e13, 1e13, 1e13, 1e13, T0 + MIN5, T0 + MIN5 + MIN5)
    assert refused.value.field == "fill.price"


def test_a_nan_price_never_reaches_a_fill(make_engine: Callable[..., MatchingEngine]) -> None:
    """A NaN Decimal cannot be ordered (comparing it raises decimal's InvalidOperation), so the
    engine's quick test before a fill relies on NaN being refused where prices come in."""
    engine = make_engine(price=None)
    with pytest.raises(InvalidField) as refused:
        engine.on_price(SYM, Decimal("NaN"), T0)
    assert refused.value.field == "price"
    engine.on_price(SYM, Decimal(50000), T0)
    limit = order(Side.BUY, "0.1", "e", price=Decimal(49000), order_type=OrderType.LIMIT)
    engine.place("A", limit, T0)
    nan = float("nan")
    with pytest.raises(InvalidField):
        engine.on_bar(SYM, nan, nan, nan, nan, T0 + MIN5, T0 + MIN5 + MIN5)
    assert engine.position("A", SYM).size == 0
