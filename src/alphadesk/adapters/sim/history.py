"""Paging through an account's history newest first with an opaque cursor, as Bybit does.

The cursor names the sequence number of the last record returned, not an offset, so records
appended between two page requests never shift the window: every older record is returned
exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from alphadesk.adapters.sim.records import Page
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode

_PREFIX = "s"


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


R = TypeVar("R", bound=Sequenced)


def encode_cursor(seq: int) -> str:
    return f"{_PREFIX}{seq:x}"


def decode_cursor(cursor: str) -> int:
    if not cursor.startswith(_PREFIX):
        raise OrderRejected(RejectCode.PARAMS_ERROR, "cursor", cursor, "is not a cursor we issued")
    try:
        return int(cursor[len(_PREFIX) :], 16)
    except ValueError:
        raise OrderRejected(
            RejectCode.PARAMS_ERROR, "cursor", cursor, "is not a cursor we issued"
        ) from None


def check_limit(limit: int, maximum: int = 100) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise OrderRejected(RejectCode.PARAMS_ERROR, "limit", limit, f"must be 1..{maximum}")
    return limit


def page(records: Sequence[R], keep: Callable[[R], bool], limit: int, cursor: str) -> Page[R]:
    """Walk ``records`` (ascending ``seq``) backwards from the cursor, keeping matches."""
    check_limit(limit)
    below = decode_cursor(cursor) if cursor else None
    out: list[R] = []
    i = len(records) - 1
    if below is not None:
        # seq is ascending and dense per list (index == position), but search to be safe.
        while i >= 0 and records[i].seq >= below:
            i -= 1
    while i >= 0:
        rec = records[i]
        i -= 1
        if keep(rec):
            if len(out) == limit:
                return Page(out, encode_cursor(out[-1].seq))
            out.append(rec)
    return Page(out, "")
