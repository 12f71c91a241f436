"""draw_ids by one hexlify and one flat take gives the very ids the former form did (hex text,
a 2-D concatenate with a dash and a newline column, a gather by layout, split on whitespace)."""

from __future__ import annotations

import random
import uuid

import numpy as np

from alphadesk.adapters.sim.ids import _KEEP, _V4, BATCH, draw_ids

_LAYOUT = np.array(
    [*range(8), 32, *range(8, 12), 32, *range(12, 16), 32, *range(16, 20), 32, *range(20, 32), 33]
)
_DASH_NEWLINE = np.frombuffer(b"-\n", dtype=np.uint8)


def _former(rng: random.Random) -> list[str]:
    bits = (rng.getrandbits(128 * BATCH) & _KEEP) | _V4
    digits = np.frombuffer(bits.to_bytes(16 * BATCH, "big").hex().encode(), dtype=np.uint8)
    table = np.concatenate(
        (digits.reshape(BATCH, 32), np.broadcast_to(_DASH_NEWLINE, (BATCH, 2))), axis=1
    )
    ids: list[str] = table[:, _LAYOUT].tobytes().decode().split()
    return ids


def test_draws_equal_the_former_form_batch_after_batch() -> None:
    for seed in (0, 1, 7, 2**40 + 3):
        now, before = random.Random(seed), random.Random(seed)
        for _ in range(3):
            ids = draw_ids(now)
            assert ids == _former(before)
            assert len(ids) == BATCH and all(len(i) == 36 for i in ids)


def test_the_last_id_of_a_draw_is_the_first_uuid4_drawn() -> None:
    ids = draw_ids(random.Random(11))
    draws = random.Random(11)
    assert ids[-1] == str(uuid.UUID(int=draws.getrandbits(128), version=4))
    assert ids[-2] == str(uuid.UUID(int=draws.getrandbits(128), version=4))
