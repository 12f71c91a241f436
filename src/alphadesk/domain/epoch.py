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

from datetime import UTC, datetime, timedelta
from typing import Final, final

from alphadesk.domain import checks

# Final: C statics on the compiled build, where any other module name is a dict lookup per read
_UTC: Final = UTC
_DATETIME: Final = datetime
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS: Final = 253_402_300_799_999  # checks.from_epoch_ms's bound: the last instant it holds
_FLOAT_EXACT_MS: Final = 2**32 * 1000
"""Below this (2106-02-07), ``datetime.fromtimestamp(ms / 1000, UTC)`` is exactly
``_EPOCH + timedelta(milliseconds=ms)``, at half the cost: the float ``ms / 1000`` lies within
half a unit in the last place (at most 2**-22 s, under 0.24 us) of the true instant, and
fromtimestamp rounds to the nearest microsecond, which is then the exact ``(ms % 1000) * 1000``.
Later times, whose float drifts further, take the integer path."""
_from_timestamp: Final = datetime.fromtimestamp


@final
class _Pair:
    """One conversion: ``at`` is ``ms``. Never changed once made (a new pair replaces it)."""

    def __init__(self, at: datetime, ms: int) -> None:
        self.at = at
        self.ms = ms


@final
class _Memo:
    """Holds the last :class:`_Pair` (a native field on the compiled build, where storing a
    module global was a dict write and its tuple a box per call)."""

    def __init__(self) -> None:
        self.last = _Pair(_EPOCH, 0)


_MEMO: Final = _Memo()


def utc_at(ms: int) -> datetime:
    """``checks.from_epoch_ms`` of an int ``ms`` (an int or an out-of-range value goes through
    it, raising as it does), remembered until the next call."""
    last = _MEMO.last  # read once: the pair this call compares and answers from
    if ms == last.ms and type(ms) is int:
        return last.at
    if type(ms) is int and 0 <= ms < _FLOAT_EXACT_MS:
        at = _from_timestamp(ms / 1000, _UTC)  # exact here: see _FLOAT_EXACT_MS
    elif type(ms) is int and 0 <= ms <= _MAX_MS:
        at = _EPOCH + timedelta(0, 0, 0, ms)  # (days, seconds, us, ms): no keyword to parse
    else:
        at = checks.from_epoch_ms("time_ms", ms)
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
