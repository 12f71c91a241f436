"""Decoding a list of rows one row at a time, so that one bad row costs only itself.

Bybit adds ``execType`` values (``UNKNOWN``, new settlement kinds) and occasionally blanks a field;
decoding a whole frame or page as one ``list[Struct]`` would then throw away every good execution
beside the bad one and, in the REST gap-fill, fail the whole window forever. Here each row is
decoded and turned into a domain object on its own; a row that fails is reported as a
:class:`SkippedItem` (its id, never its content beyond the offending field) and the rest go on.
Nothing here does I/O or logs: the caller counts and logs what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
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
    """The row's own id for the skip report, whether it is still a dict or a decoded struct."""
    for name in _ID_FIELDS:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if isinstance(value, str) and value:
            return value
    return "?"


def each_row(
    rows: Sequence[Any],
    type_: type[T],
    where: str,
    build: Callable[[T], R | None],
    skipped: list[SkippedItem],
    *,
    typed: bool = False,
) -> list[R]:
    """``build(row)`` for every row that decodes into ``type_`` and builds; None is dropped
    silently (a row the caller does not want, e.g. a spot execution), a failure is recorded.
    ``typed``: the rows are already ``type_`` instances."""
    out: list[R] = []
    for index, row in enumerate(rows):
        try:
            built = build(row if typed else convert(row, type_, f"{where}[{index}]"))
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
    *,
    newest_by: Callable[[T], Hashable] | None = None,
) -> list[R]:
    """:func:`each_row` for a WebSocket ``data`` array that is still raw JSON.

    The whole array is first decoded straight into ``type_`` in one pass (the usual case, and
    the fast one); only when some row does not fit is it decoded again row by row, so that row
    alone is skipped and reported.

    ``newest_by``: rows are snapshots, and of the rows with the same key only the last one is
    built. A lagging connection gets up to a hundred snapshots of one position or wallet in one
    frame, all stamped with the frame's time; the earlier ones were superseded before they
    arrived (nothing downstream keeps them), so their numbers are not read at all."""
    try:
        typed = msgspec.json.decode(data, type=list[type_])  # type: ignore[valid-type]
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    else:
        if newest_by is not None and len(typed) > 1:
            typed = list({newest_by(row): row for row in typed}.values())
        return each_row(typed, type_, where, build, skipped, typed=True)
    try:
        rows = decode(data, list[Any], where)
    except MalformedPayload as exc:  # not a list at all: nothing in it can be saved
        skipped.append(SkippedItem(where, "?", str(exc)))
        return []
    return each_row(rows, type_, where, build, skipped)
