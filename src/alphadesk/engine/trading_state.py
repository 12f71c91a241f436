"""The drawdown kill switch: ACTIVE, REDUCING (exits only) or HALTED (nothing new), persisted.

A switch watches equity *including unrealised PnL* against its own high-water mark. Crossing
``reduce_at`` moves it to REDUCING, crossing ``halt_at`` to HALTED; it only ever escalates by
itself. Going back to ACTIVE takes an explicit command (:meth:`KillSwitch.resume`), which also
re-bases the high-water mark, because an automatic recovery would re-arm a strategy that has just
lost what the owner said it may lose. The state lives in a :class:`~alphadesk.engine.ports.
StateStore` under ``risk:<scope>``, so a restart comes back in the state it left, not ACTIVE.

A desk-wide switch is the same class with scope ``desk``; a bot's effective state is the worse of
its own and the desk's (:func:`worst`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.ports import StateStore
from alphadesk.strategies.api import TradingState

__all__ = ["KillSwitch", "KillSwitchLimits", "MemoryStateStore", "TradingState", "worst"]

_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def worst(*states: TradingState) -> TradingState:
    if len(states) == 2:  # a bot's own and the desk's, on every order: spared max()'s machinery
        first, second = states
        return second if _RANK[second] > _RANK[first] else first
    return max(states, key=_RANK.__getitem__)


@dataclass(frozen=True, slots=True)
class KillSwitchLimits:
    """Drawdown fractions of the high-water mark (0.1 = 10 %); None disables that step."""

    reduce_at: Decimal | None = None
    halt_at: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("reduce_at", "halt_at"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(f"kill_switch.{name}", value)
                if value >= 1:
                    raise InvalidField(f"kill_switch.{name}", value, "must be below 1")
        both = self.reduce_at is not None and self.halt_at is not None
        if both and self.reduce_at > self.halt_at:  # type: ignore[operator]
            raise InvalidField("kill_switch.reduce_at", self.reduce_at, "must be <= halt_at")

    @property
    def enabled(self) -> bool:
        return self.reduce_at is not None or self.halt_at is not None


class MemoryStateStore:
    """A StateStore in a dict: for backtests and tests (share one instance to 'restart')."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value


class KillSwitch:
    def __init__(self, scope: str, store: StateStore, limits: KillSwitchLimits | None = None):
        self.scope = checks.text("kill_switch.scope", scope, max_len=64)
        self.limits = limits or KillSwitchLimits()
        self._store = store
        self._key = f"risk:{scope}"
        self.state = TradingState.ACTIVE
        self.peak: Decimal | None = None
        self.reason = ""
        self.since_ms = 0
        self._peak_f = float("nan")
        self._load()

    def _load(self) -> None:
        raw = self._store.get(self._key)
        if raw is None:
            return
        try:
            data = json.loads(raw)
            self.state = TradingState(data["state"])
            self.peak = Decimal(data["peak"]) if data.get("peak") is not None else None
            self.reason = str(data.get("reason", ""))
            self.since_ms = int(data.get("since_ms", 0))
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise InvalidField(self._key, raw, f"unreadable kill-switch state: {exc}") from None
        self._peak_f = float(self.peak) if self.peak is not None else float("nan")

    def _save(self) -> None:
        payload = {
            "state": self.state.value,
            "peak": None if self.peak is None else str(self.peak),
            "reason": self.reason,
            "since_ms": self.since_ms,
        }
        self._store.set(self._key, json.dumps(payload, sort_keys=True))

    def drawdown(self, equity: Decimal) -> Decimal:
        if self.peak is None or self.peak <= 0:
            return Decimal(0)
        return max(Decimal(0), (self.peak - equity) / self.peak)

    def observe(self, now_ms: int, equity: Decimal) -> TradingState:
        """Feed the latest equity (cash + unrealised); escalates and persists on a limit."""
        if not self.limits.enabled:
            return self.state
        if self.peak is None or equity > self.peak:
            self.peak = equity
            self._peak_f = float(equity)
            self._save()
            return self.state
        dd = self.drawdown(equity)
        limits = self.limits
        target = self.state
        if limits.halt_at is not None and dd >= limits.halt_at:
            target = worst(target, TradingState.HALTED)
        elif limits.reduce_at is not None and dd >= limits.reduce_at:
            target = worst(target, TradingState.REDUCING)
        if target is not self.state:
            self.state = target
            self.reason = f"drawdown {dd:.4f} from peak {self.peak}"
            self.since_ms = now_ms
            self._save()
        return self.state

    def needs_check(self, equity: float) -> bool:
        """Cheap float pre-check so a per-bar caller pays for Decimal only near a limit or peak."""
        if not self.limits.enabled:
            return False
        peak = self._peak_f
        if peak != peak or equity > peak:  # NaN: never observed
            return True
        first = self.limits.reduce_at if self.limits.reduce_at is not None else self.limits.halt_at
        assert first is not None
        return equity <= peak * (1.0 - float(first)) * (1 + 1e-9)

    def command(self, state: TradingState, now_ms: int, reason: str) -> None:
        """An owner's explicit halt/reduce/resume. Resuming re-bases the high-water mark."""
        self.state = state
        self.reason = checks.text("kill_switch.reason", reason, max_len=200)
        self.since_ms = now_ms
        if state is TradingState.ACTIVE:
            self.peak = None
            self._peak_f = float("nan")
        self._save()
