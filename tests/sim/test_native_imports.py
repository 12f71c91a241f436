"""Per-order helpers reach the compiled functions directly: the order path's to_decimal is the
compiled ``domain.decimals`` one (``domain.bars`` re-exports the very same function), and the
backtest's check for resting orders is ``any(resting.values())``."""

from __future__ import annotations

from alphadesk.adapters.sim import orders
from alphadesk.backtest import jumps
from alphadesk.domain import bars, decimals


def test_orders_use_the_compiled_to_decimal_bars_reexports() -> None:
    assert orders.to_decimal is decimals.to_decimal
    assert bars.to_decimal is decimals.to_decimal


def test_any_rests_is_any_of_the_values() -> None:
    cases: list[dict[str, bool]] = [
        {},
        {"A": False},
        {"A": True},
        {"A": False, "B": False, "C": True},
        {"A": True, "B": False},
        {"A": False, "B": False},
    ]
    for resting in cases:
        assert jumps._any_rests(resting) is any(resting.values())
