"""Epoch ms ⇄ UTC datetimes with the last pair remembered: the same answers as the checking
conversions, whatever came before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.domain import checks
from alphadesk.domain.epoch import epoch_ms, utc_at
from alphadesk.domain.errors import InvalidField

MS = st.integers(min_value=0, max_value=253_402_300_799_999)


@given(st.lists(MS, min_size=1, max_size=6))
def test_utc_at_is_from_epoch_ms_in_any_order(values: list[int]) -> None:
    for ms in values:
        assert utc_at(ms) == checks.from_epoch_ms("t", ms)
        assert utc_at(ms).tzinfo is UTC


@given(MS, st.integers(min_value=0, max_value=999))
def test_epoch_ms_is_to_epoch_ms_after_any_conversion(ms: int, micro: int) -> None:
    made = utc_at(ms)
    assert epoch_ms(made) == ms  # by identity
    finer = made + timedelta(microseconds=micro) if ms < 253_402_300_799_999 else made
    assert epoch_ms(finer) == checks.to_epoch_ms(finer)
    assert utc_at(ms) == made  # a sub-millisecond time read since is not taken for ms


def test_bad_input_is_refused_naming_the_value() -> None:
    with pytest.raises(InvalidField, match="must be >= 0"):
        utc_at(-1)
    with pytest.raises(InvalidField, match="naive"):
        epoch_ms(datetime(2026, 1, 1))  # a naive time: the point of the test
    with pytest.raises(InvalidField, match="UTC"):
        epoch_ms(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))))


def test_threads_converting_side_by_side_never_mix_their_pairs() -> None:
    """Engines in threads of one process (a Dask worker's) share the remembered pair: each
    thread's round trips stay exact however the interpreter switches between them."""
    import sys
    import threading

    wrong: list[tuple[int, int]] = []
    start = threading.Barrier(4)

    def convert(offset: int) -> None:
        start.wait()
        for i in range(20_000):
            ms = 1_758_672_000_000 + offset * 1_000_000_007 + i * 60_000
            back = epoch_ms(utc_at(ms))
            if back != ms:
                wrong.append((ms, back))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        threads = [threading.Thread(target=convert, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert wrong == []


def test_utc_at_is_exact_on_both_sides_of_the_float_path_bound() -> None:
    """Below 2**32 s the datetime comes from the float ``ms / 1000``, above from integer
    arithmetic: both give the exact millisecond, the tricky ones (.001, .5, .999) included."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for second in (0, 1, 1_767_225_600, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**33 + 7):
        for milli in (0, 1, 2, 499, 500, 501, 998, 999):
            ms = second * 1000 + milli
            made = utc_at(ms)
            assert made == epoch + timedelta(milliseconds=ms) and made.tzinfo is UTC
