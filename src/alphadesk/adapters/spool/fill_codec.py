"""The one serialised form of a :class:`Fill`: spool records, stream entries and notifications.

JSON with every Decimal as its string (``str(Decimal)`` keeps every digit and the exponent, so
``Decimal(s)`` gives back the same value *and* the same representation) and the execution time
as epoch milliseconds, the venue's own precision. A time with sub-millisecond digits (a test, a
simulator) carries the remainder in ``exec_time_us`` so the round trip is still exact. ``v``
names the format so a future change can still read old spool files. ``seq`` (the venue's execution
sequence) is written only when the fill has one, and a record without it (written before it was
kept) reads back with none: the same format, version 1, both ways. Encoded with msgspec (the
listener encodes every fill it announces, and ``json.dumps`` cost a few microseconds more each);
the bytes are the ones ``json.dumps(..., separators=(",", ":"))`` writes, less the ``\\u`` escapes
of non-ASCII text, which every JSON reader reads the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, fill_from_mapping

FORMAT_VERSION = 1
_encode = msgspec.json.Encoder().encode
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DECIMALS = ("price", "qty", "fee", "closed_size")
_TEXTS = (
    "venue",
    "account",
    "exec_id",
    "bot_id",
    "symbol",
    "side",
    "exec_type",
    "fee_currency",
    "order_id",
    "order_link_id",
    "order_type",
    "close_reason",
)


def fill_to_dict(fill: Fill) -> dict[str, Any]:
    micros = fill.exec_time.microsecond % 1000
    data: dict[str, Any] = {"v": FORMAT_VERSION}
    for name in _TEXTS:
        data[name] = str(getattr(fill, name))
    for name in _DECIMALS:
        data[name] = str(getattr(fill, name))
    data["is_maker"] = fill.is_maker
    data["exec_time"] = checks.to_epoch_ms(fill.exec_time)
    if micros:
        data["exec_time_us"] = micros
    if fill.seq is not None:
        data["seq"] = fill.seq
    return data


def encode_fill(fill: Fill) -> bytes:
    return _encode(fill_to_dict(fill))


def _int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, value, "must be an int")
    return value


def fill_from_dict(data: Any) -> Fill:
    """Validate and rebuild; any defect raises :class:`InvalidField` naming the field."""
    if not isinstance(data, dict):
        raise InvalidField("fill", data, "must be a JSON object")
    if data.get("v") != FORMAT_VERSION:
        raise InvalidField("fill.v", data.get("v"), f"unknown format, expected {FORMAT_VERSION}")
    fields: dict[str, Any] = {}
    for name in _TEXTS:
        fields[name] = data.get(name)
    for name in _DECIMALS:
        raw = data.get(name)
        if not isinstance(raw, str):
            raise InvalidField(f"fill.{name}", raw, "must be a decimal string")
        try:
            fields[name] = Decimal(raw)
        except InvalidOperation:
            raise InvalidField(f"fill.{name}", raw, "is not a decimal") from None
    fields["is_maker"] = data.get("is_maker")
    ms = _int("fill.exec_time", data.get("exec_time"))
    micros = _int("fill.exec_time_us", data.get("exec_time_us", 0))
    if not 0 <= micros < 1000:
        raise InvalidField("fill.exec_time_us", micros, "must be in [0, 1000)")
    fields["exec_time"] = _EPOCH + timedelta(milliseconds=ms, microseconds=micros)
    seq = data.get("seq")
    fields["seq"] = None if seq is None else _int("fill.seq", seq)
    return fill_from_mapping(fields)


def decode_fill(raw: bytes | str) -> Fill:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidField("fill", raw[:80], f"is not JSON: {exc}") from None
    return fill_from_dict(data)
