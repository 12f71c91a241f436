"""The bar loop's step for its price source lives in a native holder (it was a one-item list):
the price source reads the step last stored, from 0 on."""

from __future__ import annotations

from alphadesk.backtest.runner import Cursor


def test_the_cursor_starts_at_zero_and_keeps_the_step_stored() -> None:
    cursor = Cursor()
    assert cursor.step == 0
    for k in (5, 0, 224_999, 2**40):
        cursor.step = k
        assert cursor.step == k and type(cursor.step) is int
