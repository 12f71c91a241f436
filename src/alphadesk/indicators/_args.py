"""Argument checks shared by every indicator.

Bad arguments raise ``ValueError`` naming the argument and the value it got, so a strategy's
misconfiguration reads as such in the log instead of surfacing later as a silent all-NaN column.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import numpy.typing as npt

from alphadesk.indicators._types import FloatArray


def check_period(name: str, value: int, minimum: int = 1) -> int:
    """Accept any integer type (``numpy.int64`` from a config array included), refuse bools."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        as_int = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if as_int < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {as_int}")
    return as_int


def check_ddof(ddof: int, period: int) -> int:
    """ddof must leave at least one degree of freedom, or the variance divides by zero."""
    ddof = check_period("ddof", ddof, minimum=0)
    if ddof >= period:
        raise ValueError(f"ddof must be < period ({period}), got {ddof}")
    return ddof


def check_multiplier(name: str, value: float) -> float:
    """Band multipliers are widths: finite and not negative."""
    as_float = float(value)
    if not math.isfinite(as_float) or as_float < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return as_float


def as_series(name: str, values: npt.ArrayLike) -> FloatArray:
    """Coerce to a 1-D float64 array; a 2-D frame passed by mistake must not broadcast silently."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def as_series_group(**named: npt.ArrayLike) -> list[FloatArray]:
    """Coerce several inputs of one bar series (open, high, low, close ...) that must line up."""
    arrays = [as_series(name, values) for name, values in named.items()]
    lengths = {len(array) for array in arrays}
    if len(lengths) > 1:
        detail = ", ".join(f"{name}={len(a)}" for name, a in zip(named, arrays, strict=True))
        raise ValueError(f"{', '.join(named)} must have the same length, got {detail}")
    return arrays


def finite(name: str, value: float) -> float:
    """Incremental state lives for weeks; one NaN fed in would poison it for good, so refuse it."""
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return as_float
