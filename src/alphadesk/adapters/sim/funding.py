"""Funding boundaries: Bybit settles USDT perpetuals at 00:00, 08:00 and 16:00 UTC.

A position pays (or receives) at a boundary only if it was open *before* it, so a position opened
exactly at a boundary first pays at the next one.
"""

from __future__ import annotations

from decimal import Decimal

from alphadesk.domain.enums import Side


def next_boundary(ts_ms: int, interval_ms: int) -> int:
    """The first boundary strictly after ``ts_ms`` (boundaries are multiples of the interval)."""
    return (ts_ms // interval_ms + 1) * interval_ms


def funding_fee(signed_qty: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What the position pays: longs pay a positive rate, shorts receive it (negative fee)."""
    return signed_qty * mark * rate


def funding_side(signed_qty: Decimal) -> Side:
    return Side.BUY if signed_qty > 0 else Side.SELL
