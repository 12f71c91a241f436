"""``to_decimal``: a float's shortest repr as a Decimal, the same remembered or not."""

from __future__ import annotations

import math
from decimal import Decimal
from random import Random

from alphadesk.domain import decimals
from alphadesk.domain.bars import to_decimal
from alphadesk.domain.decimals import DECIMAL_CACHE_SIZE


def uncached(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def test_a_remembered_price_is_the_conversion_it_replaces() -> None:
    rng = Random(5)
    prices = [round(rng.uniform(0.0001, 120_000), rng.randrange(0, 9)) for _ in range(500)]
    prices += [1e-300, 5e-324, 1.0, 0.1 + 0.2, 1e22, 123456789.123, math.inf]
    for _ in range(3):  # the first pass converts, the next ones are served from the cache
        for p in prices:
            got = to_decimal(p)
            assert (str(got), got.as_tuple()) == (str(uncached(p)), uncached(p).as_tuple())
    assert str(to_decimal(0.1)) == "0.1"  # the shortest repr, not the binary expansion


def test_zero_negatives_and_nan_convert_as_before() -> None:
    for value in (0.0, -0.0, -1.5, -0.1, -math.inf):
        for _ in range(2):
            got = to_decimal(value)
            assert (str(got), got.as_tuple()) == (str(uncached(value)), uncached(value).as_tuple())
    assert str(to_decimal(0.0)) == "0.0" and str(to_decimal(-0.0)) == "-0.0"
    assert to_decimal(math.nan).is_nan() and to_decimal(math.nan).is_nan()
    assert to_decimal(3) == Decimal("3.0") and str(to_decimal(3)) == "3.0"  # an int: as a float
    assert all(k > 0 for k in decimals._decimals)  # nothing but positive floats kept (no NaN)


def test_the_cache_stays_bounded() -> None:
    for i in range(3 * DECIMAL_CACHE_SIZE + 7):
        value = 1.0 + i / 1024
        assert to_decimal(value) == uncached(value)
        assert len(decimals._decimals) <= DECIMAL_CACHE_SIZE
