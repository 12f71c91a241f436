"""Intents: validated at construction, hashable and comparable by value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.intents import (
    EnterIntent,
    EquityFraction,
    ExitIntent,
    NotionalSize,
    RiskFraction,
    SetStopIntent,
    TakeProfitLevel,
    TrailingSpec,
)


def _enter(**changes: object) -> EnterIntent:
    fields: dict[str, object] = {
        "time_ms": 1_700_000_000_000,
        "bot_id": "bot",
        "symbol": "BTCUSDT",
        "side": Side.SELL,
        "size": EquityFraction(fraction=Decimal("0.07"), leverage=Decimal(10)),
        "reason": "cross_below_ema240",
        "ref_price": Decimal("100"),
        "stop_loss": Decimal("101"),
        "take_profits": (TakeProfitLevel(price=Decimal("97")),),
        "trailing": TrailingSpec(distance=Decimal(1), activation_price=Decimal(98)),
    }
    fields.update(changes)
    return EnterIntent(**fields)  # type: ignore[arg-type]


def test_equal_intents_compare_and_hash_equal() -> None:
    a, b = _enter(), _enter()
    assert a == b
    assert len({a, b, _enter(time_ms=1)}) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_ms": -1}, "enter.time_ms"),
        ({"time_ms": 1.5}, "enter.time_ms"),
        ({"symbol": ""}, "enter.symbol"),
        ({"reason": "x" * 51}, "enter.reason"),
        ({"reason": "cross\x00"}, "enter.reason"),
        ({"bot_id": "b\x00t"}, "enter.bot_id"),
        ({"ref_price": 100.0}, "enter.ref_price"),
        ({"stop_loss": Decimal(0)}, "enter.stop_loss"),
        ({"side": "Sell"}, "enter.side"),
        ({"size": 200}, "enter.size"),
        ({"take_profits": [TakeProfitLevel(price=Decimal(1))]}, "enter.take_profits"),
    ],
)
def test_bad_enter_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as err:
        _enter(**changes)
    assert err.value.field == field


def test_take_profit_fractions_cannot_exceed_the_position() -> None:
    half = TakeProfitLevel(price=Decimal(110), fraction=Decimal("0.6"))
    with pytest.raises(InvalidField, match="fractions sum above 1"):
        _enter(take_profits=(half, half))


def test_exit_fraction_and_stop_are_checked() -> None:
    with pytest.raises(InvalidField) as err:
        ExitIntent(time_ms=0, bot_id="b", symbol="X", reason="r", fraction=Decimal("1.5"))
    assert err.value.field == "exit.fraction"
    with pytest.raises(InvalidField) as err2:
        SetStopIntent(time_ms=0, bot_id="b", symbol="X", stop_loss=Decimal(0), reason="breakeven")
    assert err2.value.field == "set_stop.stop_loss"


def test_size_hints_scale_for_drawdown_ladders() -> None:
    assert NotionalSize(usdt=Decimal(200)).scaled(Decimal("0.5")) == NotionalSize(usdt=Decimal(100))
    rf = RiskFraction(
        risk=Decimal("0.05"), stop_distance_pct=Decimal("0.10"), cap_fraction=Decimal("0.20")
    )
    assert rf.notional_fraction() == Decimal("0.20")
    half = rf.scaled(Decimal("0.5"))
    assert half.notional_fraction() == Decimal("0.10")
    ef = EquityFraction(fraction=Decimal("0.07"), leverage=Decimal(10)).scaled(Decimal("0.5"))
    assert ef == EquityFraction(fraction=Decimal("0.035"), leverage=Decimal(10))
    with pytest.raises(InvalidField) as err:
        NotionalSize(usdt=Decimal(-1))
    assert err.value.field == "size.usdt"
