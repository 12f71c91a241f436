"""The garbage collector's settings for a long-running service, applied once start-up is over.

A started listener holds about 280,000 objects that live as long as the process (imported
modules, ccxt's exchange tables, SQLAlchemy's metadata, open connections). CPython's default
collector (thresholds 700/10/10) re-scans all of them in every full collection, and a burst of
fills, whose batches stay alive across many young collections, triggers one every few thousand
fills: each took 75-170 ms on the 2-core benchmark machine, a pause on the event loop that showed
up as the p99 and as a fifth of the listener's CPU in a 20,000-fill flood.

So, once start-up is done: whatever start-up left as garbage is collected, the survivors are
frozen (``gc.freeze``: moved to a generation the collector never visits; they are never freed
anyway), and the youngest generation may grow to 20,000 objects before a collection. Objects
without reference cycles are still freed at once by reference counting; the collector only finds
cycles, and the few a service makes are still found, a little later.
"""

from __future__ import annotations

import gc

YOUNG = 20_000
"""Allocations between two collections of the youngest generation (CPython's default: 700)."""
MIDDLE = 20
"""Young collections between two of the middle generation (default 10)."""
OLD = 10
"""Middle collections between two full ones (CPython's default)."""


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
