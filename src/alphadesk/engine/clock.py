"""The engine's default clock: the real time, in UTC. Every part takes a ``clock`` so tests and
replays can pass their own."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
