"""Scalar division with numpy's IEEE-754 results, for the incremental forms.

Python raises ``ZeroDivisionError`` where numpy returns ``inf`` or ``nan``. The incremental
forms must return what the vectorised ones do (a zero-volume bar on a thin symbol makes a volume
change infinite, and the seed's ``volume_change > 50`` then reads True, as pandas did), so they
divide here.
"""

from __future__ import annotations

import math


def ieee_div(numerator: float, denominator: float) -> float:
    if denominator != 0.0:
        return numerator / denominator
    if math.isnan(numerator) or numerator == 0.0:
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)
