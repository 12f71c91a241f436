"""utc_at and epoch_ms remember the last conversion as one immutable pair in a holder (not a
module global tuple): the same answers, and the same answers *by identity*, as the tuple form
they replace, over any interleaving of calls; and the datetime built from its pickled state is
the one fromtimestamp (or the epoch plus a timedelta) made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from alphadesk.domain import checks, epoch
from alphadesk.domain.epoch import epoch_ms, utc_at

MS = st.integers(min_value=0, max_value=253_402_300_799_999)


class _TupleForm:
    """The former memo: a module global ``(datetime, ms)`` tuple, replaced whole per store."""

    def __init__(self, at: datetime, ms: int) -> None:
        self.last = (at, ms)

    def utc_at(self, ms: int) -> tuple[bool, datetime]:
        if ms == self.last[1]:
            return True, self.last[0]
        at = checks.from_epoch_ms("t", ms)
        self.last = (at, ms)
        return False, at

    def epoch_ms(self, value: datetime) -> tuple[bool, int]:
        if value is self.last[0]:
            return True, self.last[1]
        ms = checks.to_epoch_ms(value)
        if not value.microsecond % 1000:
            self.last = (value, ms)
        return False, ms


@given(st.lists(st.tuples(st.sampled_from("uef"), MS, st.integers(0, 999)), max_size=30))
def test_the_pair_answers_as_the_tuple_did(calls: list[tuple[str, int, int]]) -> None:
    start = epoch._MEMO.last
    old = _TupleForm(start.at, start.ms)
    made: datetime = start.at
    for kind, ms, micro in calls:
        if kind == "u":  # utc_at: the remembered datetime itself when the ms is the last one
            before = epoch._MEMO.last.at
            remembered, want = old.utc_at(ms)
            made = utc_at(ms)
            assert made == want
            assert (made is before) == remembered
        else:  # epoch_ms of the last made (identity) or of a finer time (computed)
            value = made if kind == "e" else made + timedelta(microseconds=micro)
            if value.year > 9999 or value.tzinfo is not UTC:
                continue
            remembered, want = old.epoch_ms(value)
            assert epoch_ms(value) == want
        assert epoch._MEMO.last.ms == old.last[1]
        assert epoch._MEMO.last.at == old.last[0]


def test_a_store_is_a_new_whole_pair() -> None:
    first = utc_at(1_767_225_600_000)
    pair = epoch._MEMO.last
    assert pair.at is first and pair.ms == 1_767_225_600_000
    second = utc_at(1_767_225_660_000)
    assert epoch._MEMO.last is not pair  # replaced, not changed in place
    assert (pair.at, pair.ms) == (first, 1_767_225_600_000)
    assert epoch._MEMO.last.at is second and epoch._MEMO.last.ms == 1_767_225_660_000


def _old_build(ms: int) -> datetime:
    """How utc_at built a datetime before the pickled-state constructor."""
    if ms < 2**32 * 1000:
        return datetime.fromtimestamp(ms / 1000, UTC)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(0, 0, 0, ms)


@given(st.lists(MS, min_size=1, max_size=8))
def test_the_state_built_datetime_is_the_old_one(values: list[int]) -> None:
    for ms in values:
        made = epoch._at(ms)
        old = _old_build(ms)
        assert made == old
        assert (made.year, made.month, made.day, made.hour, made.minute) == (
            old.year, old.month, old.day, old.hour, old.minute,
        )  # fmt: skip
        assert (made.second, made.microsecond, made.fold) == (old.second, old.microsecond, 0)
        assert made.tzinfo is UTC
        assert epoch._MEMO.day.day == ms // 86_400_000  # the day just used, remembered whole


def test_days_edges_and_leap_days_build_exactly() -> None:
    day = 86_400_000
    for ms in (0, 1, day - 1, day, 951_782_400_000, 951_868_799_999, 4_107_542_399_999,
               253_402_300_799_999, 253_402_300_799_999 - day):  # fmt: skip
        for probe in (ms, ms + 999 if ms + 999 <= 253_402_300_799_999 else ms):
            assert epoch._at(probe) == _old_build(probe) == checks.from_epoch_ms("t", probe)
