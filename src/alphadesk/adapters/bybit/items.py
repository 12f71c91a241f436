"""Decoding a list of rows one row at a time, so that one bad row costs only itself.

Bybit adds ``execType`` values (``UNKNOWN``, new settlement kinds) and occasionally blanks a field;
decoding a whole frame or page as one ``list[Struct]`` would then throw away every good execution
beside the bad one and, in the REST gap-fill, fail the whole window forever. Here each row is
decoded and turned into a domain object on its own; a row that fails, with any error (a refused
value, an overflow deep in a conversion), is reported as a :class:`SkippedItem` (its id and the
reason for logs; its raw JSON for the dead-letter store) and the rest go on. Nothing here does
I/O or logs: the caller counts, logs and sets aside what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgspec

from alphadesk.adapters.bybit.wire import MalformedPayload, convert, decode
from alphadesk.domain.errors import InvalidField

T = TypeVar("T")
R = TypeVar("R")

# The field that names a row, per row kind, so a skipped row can be found again at Bybit.
_ID_FIELDS = ("execId", "orderId", "symbol", "accountType")


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A row left out: where it came from, its id, why, and the row itself as JSON text (for
    the dead-letter store; the log shows only the id and the reason)."""

    where: str
    item_id: str
    reason: str
    raw: str = ""


def item_id(row: Any) -> str:
    """The row's own id for the skip report, whether it is still a dict or a decoded struct."""
    for name in _ID_FIELDS:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if isinstance(value, str) and value:  # shown in logs: control characters escaped
            return value if value.isprintable() else repr(value)[1:-1]
    return "?"


def raw_text(data: Any) -> str:
    """JSON text of a row: its own bytes when it is still raw, else re-encoded (NULs and any
    unicode are JSON-escaped by the encoder; a value JSON cannot hold is shown by repr)."""
    if isinstance(data, _RawRow):
        data = data.raw
    if isinstance(data, msgspec.Raw):
        return bytes(data).decode("utf-8", "replace")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data).decode("utf-8", "replace")
    try:
        return msgspec.json.encode(data).decode()
    except (TypeError, ValueError, OverflowError):
        return repr(data)


def _reason(exc: Exception) -> str:
    """An :class:`InvalidField` already names the field and value; anything else (an overflow
    deep in a conversion) gets its type so the reader knows it was not a rule."""
    return str(exc) if isinstance(exc, InvalidField) else f"{type(exc).__name__}: {exc}"


def _build_each(
    rows: Sequence[tuple[Any, Callable[[], T]]],
    where: str,
    build: Callable[[T], R | None],
    skipped: list[SkippedItem],
) -> list[R]:
    """``build`` every decoded row; any exception is the row's alone (it is reported with its
    raw text and the reason) and the rest go on."""
    out: list[R] = []
    for source, decoded in rows:
        try:
            built = build(decoded())
        except Exception as exc:  # one row's failure, of any kind, is its own
            skipped.append(SkippedItem(where, item_id(source), _reason(exc), raw_text(source)))
            continue
        if built is not None:
            out.append(built)
    return out


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

    def decoder(index: int, row: Any) -> Callable[[], T]:
        if typed:
            return lambda: row
        return lambda: convert(row, type_, f"{where}[{index}]")

    return _build_each([(row, decoder(i, row)) for i, row in enumerate(rows)], where, build,
                       skipped)  # fmt: skip


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
    alone is skipped and reported. A row that decodes but does not build is reported with its
    own raw JSON, cut from the array only then.

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
        fast: list[R] = []
        for row in typed:
            try:
                made = build(row)
            except Exception:  # rare: redo the frame row by row, with raw rows
                break
            if made is not None:
                fast.append(made)
        else:
            return fast
    try:
        raws = decode(data, list[msgspec.Raw], where)
    except MalformedPayload as exc:  # not a list at all: nothing in it can be saved
        skipped.append(SkippedItem(where, "?", str(exc), raw_text(data)))
        return []
    entries: list[tuple[int, _RawRow, T | None, Exception | None]] = []
    for index, raw in enumerate(raws):
        raw_row = _RawRow(raw)
        try:
            entries.append((index, raw_row, decode(raw, type_, f"{where}[{index}]"), None))
        except Exception as exc:  # a row that does not fit the shape is its own loss
            entries.append((index, raw_row, None, exc))
    if newest_by is not None:
        newest = {newest_by(cast(T, v)): i for i, _, v, e in entries if e is None}
        keep = set(newest.values())
        entries = [entry for entry in entries if entry[3] is not None or entry[0] in keep]
    built: list[R] = []
    for _, source, value, error in entries:  # in the frame's order, failures and all
        if error is not None:
            skipped.append(SkippedItem(where, item_id(source), _reason(error), raw_text(source)))
            continue
        built.extend(_build_each([(source, _const(cast(T, value)))], where, build, skipped))
    return built


def _const(value: T) -> Callable[[], T]:
    return lambda: value


class _RawRow(dict[str, Any]):
    """A raw row for the skip report: its JSON text, and its fields when it is an object."""

    def __init__(self, raw: msgspec.Raw) -> None:
        try:
            fields = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            fields = None
        super().__init__(fields if isinstance(fields, dict) else {})
        self.raw = raw
