"""Validation helpers shared by the domain's value objects.

Money must be Decimal (a float has already lost precision before we could round it) and time
must be timezone-aware UTC (a naive datetime is an unknown instant). These helpers turn those rules
into :class:`InvalidField` errors that name the field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alphadesk.domain.errors import InvalidField

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decimal(field: str, value: Any) -> Decimal:
    """Accept only a finite Decimal; bool, int and float are refused on purpose."""
    if not isinstance(value, Decimal):
        raise InvalidField(field, value, f"must be Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidField(field, value, "must be finite")
    return value


def positive(field: str, value: Any) -> Decimal:
    d = decimal(field, value)
    if d <= 0:
        raise InvalidField(field, value, "must be > 0")
    return d


def non_negative(field: str, value: Any) -> Decimal:
    d = decimal(field, value)
    if d < 0:
        raise InvalidField(field, value, "must be >= 0")
    return d


def utc(field: str, value: Any) -> datetime:
    """Accept an aware datetime at UTC offset zero; naive or other offsets are refused."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # the usual case, checked on every fill: no offset arithmetic needed
    if not isinstance(value, datetime):
        raise InvalidField(field, value, f"must be datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidField(field, value, "must be timezone-aware (UTC), got a naive datetime")
    if value.utcoffset() != timedelta(0):
        raise InvalidField(field, value, "must be in UTC")
    return value


def text(field: str, value: Any, *, max_len: int | None = None, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidField(field, value, f"must be str, not {type(value).__name__}")
    if not allow_empty and not value:
        raise InvalidField(field, value, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise InvalidField(field, value, f"must be at most {max_len} characters")
    return value


def from_epoch_ms(field: str, value: Any) -> datetime:
    """Bybit sends times as epoch milliseconds in strings; this is the one place they become UTC."""
    try:
        ms = int(value)
    except (TypeError, ValueError):
        raise InvalidField(field, value, "must be epoch milliseconds") from None
    if ms < 0:
        raise InvalidField(field, value, "must be >= 0")
    return _EPOCH + timedelta(milliseconds=ms)


def to_epoch_ms(value: datetime) -> int:
    utc("time", value)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
