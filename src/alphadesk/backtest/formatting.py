"""How a backtest's numbers are written for people: the one formatter of the console tables and
the HTML report, so a number reads the same wherever it is shown.

Rules: money in USDT with 2 decimals and thousands separators; percentages with 2 decimals (the
unit is in the column header or after the value, never guessed); ratios (Sharpe, profit factor)
with 2 decimals; prices and quantities exactly as the venue filled them (they already carry the
instrument's tick and step); times as ``YYYY-MM-DD HH:MM`` UTC; durations as ``3d 04:05`` (days,
hours, minutes). Rounding is half-even on the Decimal value, the same for a float (through its
shortest repr) as for a Decimal. A missing value (no trades, an undefined ratio) is ``-``.
The JSON keeps full precision and formats nothing: this module is only for reading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

Number = Decimal | float | int

MISSING = "-"


def _decimal(value: Number) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    return Decimal(value)


def fixed(value: Number | None, places: int = 2) -> str:
    """``value`` rounded to ``places`` decimals with thousands separators; ``-0.00`` is ``0.00``."""
    if value is None:
        return MISSING
    d = _decimal(value)
    if d is None:
        return MISSING
    rounded = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{places}f}"


def rounded(value: float, places: int = 2) -> float:
    """``value`` rounded as :func:`fixed` rounds it, as a float: chart data, so a value under the
    cursor reads exactly as the same value in a table."""
    d = _decimal(value)
    if d is None:
        return value
    out = float(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))
    return out if out != 0 else 0.0  # never -0.0, which a browser prints as "-0.00"


def money(value: Number | None) -> str:
    """USDT, 2 decimals: ``-1,234.57``."""
    return fixed(value, 2)


def percent(value: Number | None) -> str:
    """A value already in percent (12.3456 -> ``12.35``)."""
    return fixed(value, 2)


def fraction_pct(value: Number | None) -> str:
    """A fraction shown in percent (0.123456 -> ``12.35``)."""
    if value is None:
        return MISSING
    d = _decimal(value)
    return MISSING if d is None else fixed(d * 100, 2)


def ratio(value: Number | None) -> str:
    return fixed(value, 2)


def count(value: int) -> str:
    return f"{value:,}"


def exact(value: Decimal) -> str:
    """A price, quantity or rate as it is, without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def timestamp(ms: int | None) -> str:
    """``2025-10-01 12:05`` (UTC)."""
    if ms is None:
        return MISSING
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def month(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def duration(seconds: Number | None) -> str:
    """``3d 04:05`` or ``04:05`` (hours:minutes), rounded to the minute."""
    if seconds is None:
        return MISSING
    d = _decimal(seconds)
    if d is None:
        return MISSING
    minutes = int((d / 60).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    clock = f"{hours:02d}:{mins:02d}"
    return f"{days}d {clock}" if days else clock
