"""A simulated clock: backtests and replays set the time; nothing reads the wall clock.

Implements ``engine.ports.Clock``. Time only moves forward, because a fill stamped before the
order that caused it would corrupt every report downstream.
"""

from __future__ import annotations

from datetime import datetime

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField


class SimClock:
    __slots__ = ("_ms",)

    def __init__(self, start_ms: int = 0) -> None:
        self._ms = self._check(start_ms)

    @staticmethod
    def _check(ms: int) -> int:
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            raise InvalidField("clock.ms", ms, "must be epoch milliseconds >= 0")
        return ms

    def now(self) -> datetime:
        return checks.from_epoch_ms("clock.ms", self._ms)

    @property
    def now_ms(self) -> int:
        return self._ms

    def set(self, ms: int) -> None:
        """Move to ``ms``; moving backwards is refused."""
        self._check(ms)
        if ms < self._ms:
            raise InvalidField("clock.ms", ms, f"is before the current time {self._ms}")
        self._ms = ms

    def advance(self, delta_ms: int) -> None:
        if not isinstance(delta_ms, int) or delta_ms < 0:
            raise InvalidField("clock.delta_ms", delta_ms, "must be an int >= 0")
        self._ms += delta_ms
