"""Is the listener doing its job? Per account: connected, how stale, how far recorded, spooled.

A listener that is "up" but silent records nothing, so liveness is not enough: the health view
carries the age of the last message on each account's socket and the newest execution recorded,
and is unhealthy when any account is disconnected or silent longer than ``max_silence_s``, when
its gap-fill has failed ``max_gapfill_failures`` times in a row (what the socket missed is not
being recovered), or when fills are waiting in the spool (the database is down). The count of
dead letters (rows set aside as unreadable) is shown; each raised an alert of its own, and the
listener stays healthy around them. ``alphadesk listener --health``
reads the snapshot the running listener writes, for a container health check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alphadesk.engine.clock import utc_now


@dataclass(frozen=True, slots=True)
class AccountHealth:
    account: str
    connected: bool
    last_message_age_s: float | None
    last_exec_time: datetime | None
    spool_depth: int
    reconnects: int
    gap_fills: int
    gap_fill_failures: int = 0
    gap_fill_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "connected": self.connected,
            "last_message_age_s": self.last_message_age_s,
            "last_exec_time": self.last_exec_time.isoformat() if self.last_exec_time else None,
            "spool_depth": self.spool_depth,
            "reconnects": self.reconnects,
            "gap_fills": self.gap_fills,
            "gap_fill_failures": self.gap_fill_failures,
            "gap_fill_error": self.gap_fill_error,
        }


@dataclass(frozen=True, slots=True)
class HealthReport:
    at: datetime
    accounts: tuple[AccountHealth, ...]
    healthy: bool
    problems: tuple[str, ...]
    counters: dict[str, int]
    dead_letters: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "healthy": self.healthy,
                "problems": list(self.problems),
                "dead_letters": self.dead_letters,
                "accounts": [a.as_dict() for a in self.accounts],
                "counters": self.counters,
            },
            indent=2,
        )


@dataclass(slots=True)
class _Account:
    connected: bool = False
    last_message_at: datetime | None = None
    last_exec_time: datetime | None = None
    reconnects: int = 0
    gap_fills: int = 0
    gap_fill_failures: int = 0  # in a row, since the last one that completed
    gap_fill_error: str = ""


class HealthBook:
    """Updated by the listener as things happen; :meth:`report` is a pure read."""

    def __init__(
        self,
        accounts: Sequence[str],
        *,
        max_silence_s: float = 60.0,
        max_gapfill_failures: int = 3,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._accounts = {a: _Account() for a in accounts}
        self.max_silence_s = max_silence_s
        self.max_gapfill_failures = max_gapfill_failures
        self._clock = clock

    def _get(self, account: str) -> _Account:
        return self._accounts.setdefault(account, _Account())

    def connected(self, account: str, up: bool, *, reconnects: int | None = None) -> None:
        """``reconnects``, when given, is the socket's own count (it sees drops between polls)."""
        state = self._get(account)
        if reconnects is not None:
            state.reconnects = reconnects
        elif up and not state.connected and state.last_message_at is not None:
            state.reconnects += 1
        state.connected = up

    def message(self, account: str, exec_time: datetime | None = None) -> None:
        state = self._get(account)
        state.last_message_at = self._clock()
        if exec_time is not None and (
            state.last_exec_time is None or exec_time > state.last_exec_time
        ):
            state.last_exec_time = exec_time

    def gap_filled(self, account: str, newest: datetime | None) -> None:
        state = self._get(account)
        state.gap_fills += 1
        state.gap_fill_failures = 0
        state.gap_fill_error = ""
        if newest is not None and (state.last_exec_time is None or newest > state.last_exec_time):
            state.last_exec_time = newest

    def gap_fill_failed(self, account: str, error: str) -> None:
        """One more failed gap-fill in a row (a completed one, :meth:`gap_filled`, resets it)."""
        state = self._get(account)
        state.gap_fill_failures += 1
        state.gap_fill_error = error[:500]

    def report(
        self, spool_depth: int, counters: dict[str, int] | None = None, *, dead_letters: int = 0
    ) -> HealthReport:
        now = self._clock()
        rows: list[AccountHealth] = []
        problems: list[str] = []
        for name, state in sorted(self._accounts.items()):
            age = (
                (now - state.last_message_at).total_seconds()
                if state.last_message_at is not None
                else None
            )
            rows.append(
                AccountHealth(
                    name,
                    state.connected,
                    age,
                    state.last_exec_time,
                    spool_depth,
                    state.reconnects,
                    state.gap_fills,
                    state.gap_fill_failures,
                    state.gap_fill_error,
                )
            )
            if state.gap_fill_failures >= self.max_gapfill_failures:
                problems.append(
                    f"{name}: gap-fill failed {state.gap_fill_failures} times in a row "
                    f"({state.gap_fill_error})"
                )
            if not state.connected:
                problems.append(f"{name}: disconnected")
            elif age is not None and age > self.max_silence_s:
                problems.append(f"{name}: silent for {age:.0f} s")
        if spool_depth:
            problems.append(f"{spool_depth} fills spooled (database down)")
        return HealthReport(
            now, tuple(rows), not problems, tuple(problems), dict(counters or {}), dead_letters
        )
