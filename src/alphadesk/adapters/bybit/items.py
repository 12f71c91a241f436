"""Decoding a list of rows one row at a time, so that one bad row costs only itself.

Bybit adds ``execType`` values (``UNKNOWN``, new settlement kinds) and occasionally blanks a field;
decoding a whole frame or page as one ``list[Struct]`` would then throw away every good execution
beside the bad one and, in the REST gap-fill, fail the whole window forever. Here each row is
decoded and turned into a domain object on its own; a row that fails is reported as a
:class:`SkippedItem` (its id, never its content beyond the offending field) and the rest go on.
Nothing here does I/O or logs: the caller counts and logs what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from alphadesk.adapters.bybit.wire import MalformedPayload, convert, decode
from alphadesk.domain.errors import InvalidField

T = TypeVar("T")
R = TypeVar("R")

# The field that names a row, per row kind, so a skipped row can be found again at Bybit.
_ID_FIELDS = ("execId", "orderId", "symbol", "accountType")


@dataclass(frozen=True, slots=True)
class SkippedItem:
    where: str
    item_id: str
    reason: str


def item_id(row: Any) -> str:
    if isinstance(row, dict):
        for name in _ID_FIELDS:
            value = row.get(name)
            if isinstance(value, str) and value:
                return value
    return "?"


def each_row(
    rows: Sequence[Any],
    type_: type[T],
    where: str,
    build: Callable[[T], R | None],
    skipped: list[SkippedItem],
) -> list[R]:
    """``build(row)`` for every row that decodes into ``type_`` and builds; None is dropped
    silently (a row the caller does not want, e.g. a spot execution), a failure is recorded."""
    out: list[R] = []
    for index, row in enumerate(rows):
        try:
            typed = convert(row, type_, f"{where}[{index}]")
            built = build(typed)
        except InvalidField as exc:  # MalformedPayload is one
            skipped.append(SkippedItem(where, item_id(row), str(exc)))
            continue
        if built is not None:
            out.append(built)
    return out


def each_raw_row(
    data: msgspec.Raw,
    type_: type[T],
    where: str,
    build: Callable[[T], R | None],
    skipped: list[SkippedItem],
) -> list[R]:
    """:func:`each_row` for a WebSocket ``data`` array that is still raw JSON."""
    try:
        rows = decode(data, list[Any], where)
    except MalformedPayload as exc:  # not a list at all: nothing in it can be saved
        skipped.append(SkippedItem(where, "?", str(exc)))
        return []
    return each_row(rows, type_, where, build, skipped)
