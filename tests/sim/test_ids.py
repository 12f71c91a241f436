"""The matching engine's ids are the version-4 UUIDs of its seeded generator's 128-bit draws, in
draw order, however many are drawn ahead at a time: a run repeats its order and execution ids."""

from __future__ import annotations

import random
import uuid

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.ids import BATCH
from alphadesk.domain.enums import Side

from .kit import T0, order


def test_ids_are_the_seeded_uuid4_draws_in_order_across_batches() -> None:
    engine = MatchingEngine("sim", seed=7)
    draws = random.Random(7)
    want = [str(uuid.UUID(int=draws.getrandbits(128), version=4)) for _ in range(2 * BATCH + 3)]
    assert [engine._new_id() for _ in want] == want


def test_an_orders_id_and_its_fills_exec_id_are_the_first_two_draws(
    engine: MatchingEngine,
) -> None:
    (fill,) = engine.place("A", order(Side.BUY, "0.1", "entry"), T0 + 1).fills
    draws = random.Random(0)  # the engine's default seed
    first, second = (str(uuid.UUID(int=draws.getrandbits(128), version=4)) for _ in range(2))
    assert (fill.order_id, fill.exec_id) == (first, second)
