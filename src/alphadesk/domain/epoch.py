"""Epoch milliseconds ⇄ UTC datetimes on the per-order path, with the last pair remembered.

Inside the matching engine and the trading engine time is integer epoch ms; the domain's fills
and orders carry UTC datetimes (their public shape). One trade makes its fill's datetime from the
engine's ms, stamps the same instant on its order's snapshot, and the trading engine then reads
the fill's ms back for the portfolio and the router. Remembering the last conversion makes that a
single datetime build and no arithmetic back: the reverse is answered by identity, so only the
very object made here short-circuits, and every other time takes the checking path. The pair
is one immutable :class:`_Pair`, made whole before it is stored and read once per call, in one
step each, so threads running engines side by side (a Dask worker's, say) never see one call's
datetime with another call's ms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Final, cast, final

from alphadesk.domain import checks

# Final: C statics on the compiled build, where any other module name is a dict lookup per read
_UTC: Final = UTC
_DATETIME: Final = datetime
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS: Final = 253_402_300_799_999  # checks.from_epoch_ms's bound: the last instant it holds
_DAY_MS: Final = 86_400_000
_EPOCH_ORDINAL: Final = 719_163  # date(1970, 1, 1).toordinal()
_from_ordinal: Final = date.fromordinal
_from_state: Final = cast(Callable[[bytes, tzinfo], datetime], datetime)
"""``datetime(state, tz)``: the constructor pickle calls with a datetime's ten-byte state."""


@final
class _Pair:
    """One conversion: ``at`` is ``ms``. Never changed once made (a new pair replaces it)."""

    def __init__(self, at: datetime, ms: int) -> None:
        self.at = at
        self.ms = ms


@final
class _Day:
    """A UTC day (days since the epoch) and its date as the first four bytes of a datetime's
    pickled state (year high, year low, month, day). Never changed once made."""

    def __init__(self, day: int, head: bytes) -> None:
        self.day = day
        self.head = head


@final
class _Memo:
    """Holds the last :class:`_Pair` and the last :class:`_Day` (native fields on the compiled
    build, where storing a module global was a dict write and its tuple a box per call)."""

    def __init__(self) -> None:
        self.last = _Pair(_EPOCH, 0)
        self.day = _Day(0, b"\x07\xb2\x01\x01")  # 1970-01-01


def _at(ms: int) -> datetime:
    """The UTC datetime of ``0 <= ms <= _MAX_MS``, exactly: ``datetime(state, UTC)`` from its
    ten-byte pickled state (year as two bytes, month, day, hour, minute, second, microsecond as
    three bytes; pickle's own constructor, unchanged since Python 3.0), about a third of
    ``datetime.fromtimestamp(ms / 1000, UTC)``'s cost (which parses arguments, converts a float
    and calls the zone's fromutc). The day's four bytes are remembered, one whole
    :class:`_Day` stored in one step, as the pair is."""
    day = ms // _DAY_MS
    rest = ms - day * _DAY_MS
    known = _MEMO.day
    if known.day == day:
        head = known.head
    else:
        on = _from_ordinal(day + _EPOCH_ORDINAL)
        year = on.year
        head = bytes((year >> 8, year & 255, on.month, on.day))
        _MEMO.day = _Day(day, head)
    clock = (
        (rest // 3_600_000) << 40
        | (rest // 60_000 % 60) << 32
        | (rest // 1000 % 60) << 24
        | rest % 1000 * 1000
    )
    return _from_state(head + clock.to_bytes(6, "big"), _UTC)


_MEMO: Final = _Memo()


def utc_at(ms: int) -> datetime:
    """``checks.from_epoch_ms`` of an int ``ms`` (an int or an out-of-range value goes through
    it, raising as it does), remembered until the next call."""
    last = _MEMO.last  # read once: the pair this call compares and answers from
    if ms == last.ms and type(ms) is int:
        return last.at
    exact = type(ms) is int and 0 <= ms <= _MAX_MS
    at = _at(ms) if exact else checks.from_epoch_ms("time_ms", ms)
    _MEMO.last = _Pair(at, int(ms))
    return at


def epoch_ms(value: datetime) -> int:
    """``checks.to_epoch_ms``: by identity when ``value`` is the datetime last made or read here
    (the fill the portfolio, router and engine read in turn), else computed and remembered."""
    last = _MEMO.last
    if value is last.at:
        return last.ms
    if type(value) is not _DATETIME or value.tzinfo is not _UTC:
        return checks.to_epoch_ms(value)  # raises for a naive or non-UTC time
    delta = value - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if not delta.microseconds % 1000:  # a whole millisecond: what utc_at(ms) would make
        _MEMO.last = _Pair(value, ms)
    return ms
