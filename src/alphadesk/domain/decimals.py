"""Floats into Decimal at the edge where prices become money: :func:`to_decimal`.

Apart from ``bars`` (whose frozen ``Bar`` stays interpreted in the mypyc build) so that the
compiled engine, portfolio and strategies, which call it for every order and equity mark, call it
compiled; ``bars`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

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


def decimal_places(values: Iterable[float], most: int) -> int:
    """The most digits after the point in any value's shortest repr, trailing zeros dropped, at
    most ``most``; ``most`` as soon as one is written with an exponent. The answer does not depend
    on the order or repeats of ``values``, so a caller may pass a set. Here (compiled on the
    native build) rather than beside its caller: a loop of string calls per value."""
    places = 0
    for value in values:
        text = repr(float(value))
        if "e" in text:
            return most
        if "." in text:
            places = max(places, len(text.split(".")[1].rstrip("0")))
    return min(places, most)
