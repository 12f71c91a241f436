"""Simulated clocks: backtests and replays set the time; nothing reads the wall clock.

Both implement ``engine.ports.Clock``. :class:`SimClock` only moves forward, because a fill
stamped before the order that caused it would corrupt every report downstream.
:class:`ReplayClock` is the paper bot's: its replay loop sets it to each symbol's bar in turn
(from one symbol's bar close back to the next symbol's open of the same step), so it does not
refuse going back.
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


class ReplayClock:
    """Replayed time, set by the replay loop: the paper venue stamps events with it."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def set(self, ms: int) -> None:
        self.ms = ms

    def now(self) -> datetime:
        return checks.from_epoch_ms("clock", self.ms)
