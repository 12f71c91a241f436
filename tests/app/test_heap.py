"""The collector settings a service applies once started (see alphadesk.app.heap)."""

from __future__ import annotations

import gc

from alphadesk.app import heap


def _seen_by_collector(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_settle_freezes_start_up_objects_and_widens_the_young_generation() -> None:
    before = gc.get_threshold()
    survivor = [[1, 2, 3]]  # alive across the call, like start-up's objects
    assert _seen_by_collector(survivor)
    try:
        heap.settle()
        assert gc.get_threshold() == (heap.YOUNG, heap.MIDDLE, heap.OLD)
        assert gc.get_freeze_count() > 0
        assert not _seen_by_collector(survivor)  # frozen: no collection scans it again
        assert _seen_by_collector([["made later"]])  # what comes after is still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert _seen_by_collector(survivor)
