"""Validation helpers shared by the domain's value objects.

Money must be Decimal (a float has already lost precision before we could round it) and time
must be timezone-aware UTC (a naive datetime is an unknown instant). These helpers turn those rules
into :class:`InvalidField` errors that name the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeGuard

from alphadesk.domain.errors import InvalidField

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime holds


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


#: Control characters (C0, DEL, C1): never part of an id, a symbol or a name. NUL is refused in
#: every text (PostgreSQL cannot store it in a text column, so it would cost a whole batch).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates (no UTF-8)
#: What can never be part of a state key (``position:{bot}:{symbol}``): the separator, glob and
#: hash-tag characters and whitespace (the engine's ``check_key_part`` refuses the same).
KEY_FORBIDDEN = frozenset(":*?[]{}\\ \t\r\n")


def text(
    field: str,
    value: Any,
    *,
    max_len: int | None = None,
    allow_empty: bool = False,
    plain: bool = False,
) -> str:
    """A str; ``plain`` (ids, symbols, names) also refuses every control character."""
    if not isinstance(value, str):
        raise InvalidField(field, value, f"must be str, not {type(value).__name__}")
    if not allow_empty and not value:
        raise InvalidField(field, value, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise InvalidField(field, value, f"must be at most {max_len} characters")
    if plain:
        if value.isprintable() or _CONTROL.search(value) is None:
            return value
        raise InvalidField(field, value, "must not contain control characters or lone surrogates")
    if "\x00" in value:
        raise InvalidField(field, value, "must not contain NUL")
    return value


INTENT_BOT_ID_MAX_LEN: Final = 50
INTENT_SYMBOL_MAX_LEN: Final = 20
INTENT_REASON_MAX_LEN: Final = 50
"""An intent's text limits (``domain.intents`` names them ``BOT_ID_MAX_LEN`` and so on); here so
that :func:`plain_intent_fields`, compiled, reads them without importing the interpreted intents
(Final: constants in the C code, where a module global is a dict lookup per read)."""


def plain_intent_fields(time_ms: object, bot_id: object, symbol: object, reason: object) -> bool:
    """True when an intent's common fields are ones its checks plainly accept (epoch ms as an
    int >= 0; non-empty texts within their limits, without NUL): the one place that shortcut is
    written, for the intents' own ``__post_init__`` and for the engine context, which then skips
    the interpreted call (compiled here, it is a C call). False only means "check them"."""
    return (
        type(time_ms) is int
        and time_ms >= 0
        and type(bot_id) is str
        and 0 < len(bot_id) <= INTENT_BOT_ID_MAX_LEN
        and "\x00" not in bot_id
        and type(symbol) is str
        and 0 < len(symbol) <= INTENT_SYMBOL_MAX_LEN
        and "\x00" not in symbol
        and type(reason) is str
        and 0 < len(reason) <= INTENT_REASON_MAX_LEN
        and "\x00" not in reason
    )


_ZERO: Final = Decimal(0)  # compared with, rather than 0: an int operand is made a Decimal
_DECIMAL: Final = Decimal  # a C static on the compiled build (the import: a dict lookup per read)


def plain_positive(value: object) -> TypeGuard[Decimal]:
    """True when :func:`positive` plainly accepts ``value`` (a finite Decimal > 0), for a caller
    that then skips the checking constructor; False only means "check it"."""
    return type(value) is _DECIMAL and value.is_finite() and value > _ZERO


def plain_non_negative(value: object) -> bool:
    """True when :func:`non_negative` plainly accepts ``value`` (a finite Decimal >= 0), for a
    caller that then skips the checking constructor; False only means "check it"."""
    return type(value) is _DECIMAL and value.is_finite() and value >= _ZERO


def key_part(field: str, value: Any, *, max_len: int | None = None) -> str:
    """A plain, non-empty text that can be part of a state key (a symbol, a bot id)."""
    part = text(field, value, max_len=max_len, plain=True)
    if not KEY_FORBIDDEN.isdisjoint(part):
        bad = "".join(sorted(KEY_FORBIDDEN.intersection(part)))
        raise InvalidField(field, part, f"must not contain {bad!r}")
    return part


def bounded(
    field: str,
    value: Decimal,
    *,
    high: Decimal,
    low: Decimal = Decimal(0),
    max_digits: int = 28,
    max_places: int = 28,
) -> Decimal:
    """A finite Decimal whose magnitude is 0 or within ``[low, high]``, with at most
    ``max_digits`` significant digits and ``max_places`` digits after the point (trailing zeros
    do not count). Exchanges send nothing outside such bounds; ``1e400`` or ``1e-400`` is a
    corrupt row, and a value like that poisons every sum it enters."""
    decimal(field, value)
    magnitude = value.copy_abs()  # no context: never rounds, never overflows
    if magnitude > high:
        raise InvalidField(field, value, f"must be at most {high} in magnitude")
    if not magnitude:
        return value
    if magnitude < low:
        raise InvalidField(field, value, f"must be at least {low} in magnitude")
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent >= -max_places and len(digits) <= max_digits:  # the usual case: nothing to strip
        return value
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:  # trailing zeros say nothing
        significant -= 1
        exponent += 1
    if -exponent > max_places:
        raise InvalidField(field, value, f"must have at most {max_places} decimal places")
    if significant > max_digits:
        raise InvalidField(field, value, f"must have at most {max_digits} significant digits")
    return value


def from_epoch_ms(field: str, value: Any) -> datetime:
    """Bybit sends times as epoch milliseconds in strings; this is the one place they become UTC."""
    try:
        ms = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidField(field, value, "must be epoch milliseconds") from None
    if ms < 0:
        raise InvalidField(field, value, "must be >= 0")
    if ms > _MAX_EPOCH_MS:
        raise InvalidField(field, value, "must be before the year 10000")
    return _EPOCH + timedelta(milliseconds=ms)


def to_epoch_ms(value: datetime) -> int:
    utc("time", value)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
