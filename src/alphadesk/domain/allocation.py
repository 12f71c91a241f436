"""Pro-rata shares that add up exactly.

Splitting an amount by a quantity ratio produces a long decimal expansion; adding such shares
to running totals at 28 significant digits would then round, and the books would drift by a few
units in the 27th digit. Shares are therefore snapped to a fixed grid (at least 1e-10, finer if
the amount itself is finer), and the last share of anything is always "what is left", so the
shares of an amount sum to exactly that amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

_FINEST_DEFAULT: Final = -10


def share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total * part / whole`` on the grid; the whole of it when ``part == whole``."""
    if part == whole:
        return total
    exponent = total.as_tuple().exponent
    places = min(exponent, _FINEST_DEFAULT) if isinstance(exponent, int) else _FINEST_DEFAULT
    return (total * part / whole).quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_EVEN)
