"""The listener's counters, shared by the parts of the ingest path; reported by health."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class IngestStats:
    """Counters for health and tests; they only grow."""

    batches: int = 0
    fills_seen: int = 0
    inserted: int = 0
    duplicates: int = 0
    spooled: int = 0
    replayed: int = 0
    published: int = 0
    publish_failures: int = 0
    state_failures: int = 0
    malformed: int = 0
    unknown: int = 0
    forced: int = 0
    mismatches: int = 0
    unchecked_snapshots: int = 0
    orders: int = 0
    order_failures: int = 0
    equity: int = 0
    equity_failures: int = 0
    dead_letters: int = 0
