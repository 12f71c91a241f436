"""The matching engine's order and execution ids: version-4 UUID text from seeded random bits.

Id ``n`` is ``str(uuid.UUID(int=bits, version=4))`` for the ``n``-th ``getrandbits(128)`` of the
engine's generator, so a run repeats its ids exactly. They are drawn :data:`BATCH` at a time:
``getrandbits(128 * k)`` holds the ``k`` draws ``getrandbits(128)`` would give one by one (the
first in the lowest bits), so one big draw, one mask and one hex text serve ``k`` ids, and handing
one out is a ``list.pop`` instead of a draw, two int operations, a hex and a five-slice format
(about a third of the cost, on two ids per order). The generator serves nothing but ids, so
drawing ahead changes no other value.
"""

from __future__ import annotations

import random
from binascii import hexlify

import numpy as np

BATCH = 512
"""Ids per draw: big enough that the draw's fixed cost vanishes per id, small enough that an
engine placing a handful of orders (a test, the simulator) pays little for the first one."""

# uuid.UUID(version=4): variant bits 10 at 62-63 of the clock_seq field, version 4 at bits 76-79
_UUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_V4 = (0x8000 << 48) | (4 << 76)
_KEEP = sum(_UUID_KEEP << (128 * i) for i in range(BATCH))
_V4 = sum(_UUID_V4 << (128 * i) for i in range(BATCH))
_ROW = [*range(8), -1, *range(8, 12), -1, *range(12, 16), -1, *range(16, 20), -1, *range(20, 32)]
_TAKE = np.array(
    [
        *(
            c
            for row in range(BATCH)
            for c in (
                *(32 * BATCH if i < 0 else 32 * row + i for i in _ROW),
                *((32 * BATCH + 1,) if row < BATCH - 1 else ()),
            )
        )
    ]
)
"""Where each character of the ids' text comes from in a draw's hex digits followed by ``-\n``
(index ``32 * BATCH`` a dash, the next a newline): per id its 32 digits as ``8-4-4-4-12``, a
newline between ids and none after the last, so ``split("\n")`` gives exactly the ids."""


def draw_ids(rng: random.Random) -> list[str]:
    """The next :data:`BATCH` ids of ``rng``, the first drawn *last* (the caller pops them).
    One hexlify and one flat take of the text's characters (no 2-D concatenate and gather)."""
    bits = (rng.getrandbits(128 * BATCH) & _KEEP) | _V4
    # big-endian: the last draw's 16 bytes come first, each draw's own bytes in UUID order
    digits = np.frombuffer(hexlify(bits.to_bytes(16 * BATCH, "big")) + b"-\n", dtype=np.uint8)
    ids: list[str] = digits.take(_TAKE).tobytes().decode().split("\n")
    return ids
