"""EmaCross reads its four EMA values through ``_emas``: on the backtest's ArrayRow (a direct,
compiled call on the native build) and on any other ``Row`` the same values as the protocol's
``ind[name]`` and ``ind.prev(name)``, NaN warm-up included."""

from __future__ import annotations

import math
from array import array

import pytest
from tests.strategies.row_doubles import DictRow, bits

from alphadesk.strategies.ema_cross import _emas
from alphadesk.strategies.rows import ArrayRow, row_type

NAN = math.nan
COLS = {
    "ema_fast": array("d", [NAN, 1.5, 2.25, -0.0, 3.0, 1e300, 2.0]),
    "ema_slow": array("d", [NAN, NAN, 2.0, 0.0, 3.5, -1e-300, 2.0]),
}


@pytest.mark.parametrize("i", range(7))
def test_emas_read_what_the_row_protocol_reads(i: int) -> None:
    rows = [ArrayRow(COLS, i), row_type(COLS)(COLS, i), DictRow(COLS, i)]
    for row in rows:
        spelled = (row["ema_fast"], row["ema_slow"], row.prev("ema_fast"), row.prev("ema_slow"))
        assert bits(_emas(row)) == bits(spelled)
        assert bits(_emas(row)) == bits(_emas(rows[0]))
