"""Alerts the desk's state implies but no process raises as an event: a kill switch that tripped,
a listener account disconnected for over a minute (or a listener gone silent), a fill spool that
keeps growing. Pure: :meth:`DeskWatch.observe` compares each :class:`DeskStatus` (polled from the
control facade) with the previous ones, on an injected monotonic clock, and returns alert lines,
one per episode (and one when it ends), never one per poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alphadesk.engine.control_views import DeskStatus
from alphadesk.strategies.api import TradingState

from .alert_lines import TITLES

DISCONNECTED_AFTER_S = 60.0


@dataclass(slots=True)
class DeskWatch:
    disconnected_after_s: float = DISCONNECTED_AFTER_S
    _states: dict[str, TradingState | None] = field(default_factory=dict)
    _down_since: dict[str, float] = field(default_factory=dict)
    _down_told: set[str] = field(default_factory=set)
    _silent_told: bool = False
    _spool: int = 0
    _spool_told: bool = False

    def observe(self, status: DeskStatus, now: float) -> list[str]:
        return [*self._kill_switches(status), *self._listener(status, now), *self._spools(status)]

    def _kill_switches(self, status: DeskStatus) -> list[str]:
        lines = []
        for bot in status.bots:
            state = bot.trading_state
            if bot.bot_id in self._states:
                before = self._states[bot.bot_id]
                worse = state in (TradingState.REDUCING, TradingState.HALTED)
                if state != before and worse and state is not None:
                    lines.append(f"⚠ {TITLES['kill_switch']}: {bot.bot_id} "
                                 f"{before.value if before else 'stopped'} -> {state.value}")
                elif state is TradingState.ACTIVE and before in (TradingState.REDUCING,
                                                                 TradingState.HALTED):
                    lines.append(f"{bot.bot_id} is ACTIVE again")  # fmt: skip
            self._states[bot.bot_id] = state
        return lines

    def _listener(self, status: DeskStatus, now: float) -> list[str]:
        line = status.listener
        if line is None:
            return []
        lines = []
        silent = line.age_s > self.disconnected_after_s
        if silent and not self._silent_told:
            lines.append(f"⚠ {TITLES['listener_disconnected']}: no health report for "
                         f"{line.age_s:.0f} s (is the listener running?)")  # fmt: skip
        elif not silent and self._silent_told:
            lines.append("listener reporting again")
        self._silent_told = silent
        for account in line.accounts:
            name = account.account
            if account.connected:
                self._down_since.pop(name, None)
                if name in self._down_told:
                    self._down_told.discard(name)
                    lines.append(f"listener {name}: reconnected")
                continue
            since = self._down_since.setdefault(name, now)
            if now - since >= self.disconnected_after_s and name not in self._down_told:
                self._down_told.add(name)
                lines.append(f"⚠ {TITLES['listener_disconnected']} {name}: for "
                             f"{now - since:.0f} s")  # fmt: skip
        return lines

    def _spools(self, status: DeskStatus) -> list[str]:
        depth = status.listener.spool_depth if status.listener is not None else 0
        lines = []
        if depth > self._spool and depth > 0 and not self._spool_told:
            self._spool_told = True
            lines.append(f"⚠ {TITLES['spool_growing']}: {depth} fills waiting for the ledger")
        elif depth == 0 and self._spool_told:
            self._spool_told = False
            lines.append("spool drained: every waiting fill is in the ledger")
        self._spool = depth
        return lines
