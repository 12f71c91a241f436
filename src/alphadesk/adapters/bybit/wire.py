"""Decoding wire data into the structs of :mod:`schemas`, and Bybit's strings into values.

A malformed payload must fail loudly and say where: msgspec reports the JSON path
(``$.list[0].execPrice``), and we add the offending value, so the error reads
``execution.list[0].execPrice=123: Expected `str`, got `int```. Bybit encodes numbers as strings
and blanks ("" or null) for "not set"; :func:`dec` refuses a blank, :func:`opt_dec` maps it to None.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField

T = TypeVar("T")


class MalformedPayload(InvalidField):
    """A Bybit payload that does not have the shape or values we rely on."""


_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_STEP_RE = re.compile(r"\.(\w+)|\[(\d+)\]")


def _value_at(obj: Any, path: str) -> Any:
    for name, index in _STEP_RE.findall(path):
        try:
            obj = obj[name] if name else obj[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def _malformed(where: str, exc: msgspec.ValidationError, source: Any) -> MalformedPayload:
    message = str(exc)
    match = _PATH_RE.search(message)
    path = match.group("path") if match else ""
    reason = message[: match.start()] if match else message
    value = _value_at(source, path) if source is not None else None
    return MalformedPayload(f"{where}{path}", value, reason)


def convert(obj: Any, type_: type[T], where: str) -> T:
    """Decode an already-parsed JSON value (what ccxt returns) into ``type_``."""
    try:
        return msgspec.convert(obj, type_)
    except msgspec.ValidationError as exc:
        raise _malformed(where, exc, obj) from None


def decode(raw: bytes | str | msgspec.Raw, type_: type[T], where: str) -> T:
    """Decode JSON (a WS frame: text or bytes) into ``type_``."""
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        try:
            source = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            source = None
        raise _malformed(where, exc, source) from None
    except msgspec.DecodeError as exc:
        head = raw[:200] if isinstance(raw, str) else bytes(raw)[:200]
        raise MalformedPayload(where, head, f"not JSON: {exc}") from None


def dec(field: str, value: str | None) -> Decimal:
    """A required number; blanks and non-numbers are refused with the field's name."""
    if value is None or value == "":
        raise MalformedPayload(field, value, "is required, got a blank")
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise MalformedPayload(field, value, "is not a decimal number") from None
    if not result.is_finite():
        raise MalformedPayload(field, value, "must be finite")
    return result


def opt_dec(field: str, value: str | None) -> Decimal | None:
    """An optional number: blank (``""``/null) is None."""
    if value is None or value == "":
        return None
    return dec(field, value)


def dec_or_zero(field: str, value: str | None) -> Decimal:
    result = opt_dec(field, value)
    return Decimal(0) if result is None else result


def positive_or_none(field: str, value: str | None) -> Decimal | None:
    """Bybit writes "not set" as "", "0" or "0.00" for prices; all of them mean None."""
    result = opt_dec(field, value)
    return result if result is not None and result > 0 else None


def utc_ms(field: str, value: str | int | None) -> datetime:
    if value is None or value == "":
        raise MalformedPayload(field, value, "is required, got a blank")
    try:
        return checks.from_epoch_ms(field, value)
    except InvalidField as exc:
        raise MalformedPayload(field, value, exc.reason) from None


def float_of(field: str, value: str) -> float:
    """Bar prices are floats by design (see domain.bars); read from Bybit's string, not ccxt's."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise MalformedPayload(field, value, "is not a number") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise MalformedPayload(field, value, "must be finite")
    return result
