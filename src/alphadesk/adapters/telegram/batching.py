"""Rate-limited, batched alert messages: pure logic with an injectable clock.

Telegram throttles a bot that sends more than about one message per second to a chat (and 30 per
second overall), and a desk can produce hundreds of fills in a second. Lines wait here and leave
as at most one message per ``min_interval_s``: alerts first (never dropped, carried over to the
next message when they do not fit), then fills; fills beyond ``max_lines`` are folded into one
count line per bot. So N seconds of any flood cost at most ``N / min_interval_s + 1`` messages.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: Telegram's limit on a message's text (characters after entity parsing).
MAX_MESSAGE_CHARS = 4096


@dataclass(slots=True)
class Batcher:
    """Collects lines; :meth:`take` returns the next message when one is due, else None.

    ``clock`` returns monotonic seconds. ``min_interval_s`` is the least time between two
    messages; ``linger_s`` how long a first line waits for company (a burst of fills then leaves
    as one message rather than the first fill alone and the rest later).
    """

    clock: Callable[[], float]
    min_interval_s: float = 3.0
    linger_s: float = 0.5
    max_lines: int = 20
    max_chars: int = MAX_MESSAGE_CHARS
    _alerts: deque[str] = field(default_factory=deque)
    _fills: deque[tuple[str, str]] = field(default_factory=deque)
    _first_at: float | None = None
    _last_sent: float | None = None

    def __post_init__(self) -> None:
        if self.min_interval_s < 0 or self.linger_s < 0:
            raise ValueError("min_interval_s and linger_s must be >= 0")
        if self.max_lines < 1 or self.max_chars < 200:
            raise ValueError("max_lines must be >= 1 and max_chars >= 200")

    def alert(self, line: str) -> None:
        """An alert line (kill switch, forced fill...): always delivered, in order."""
        self._alerts.append(line)
        self._mark()

    def fill(self, bot: str, line: str) -> None:
        """A fill line of ``bot``: may be folded into a per-bot count when fills flood in."""
        self._fills.append((bot, line))
        self._mark()

    def _mark(self) -> None:
        if self._first_at is None:
            self._first_at = self.clock()

    @property
    def waiting(self) -> int:
        return len(self._alerts) + len(self._fills)

    def due_in(self) -> float | None:
        """Seconds until :meth:`take` will return a message (0 = now); None when nothing waits."""
        if self._first_at is None:
            return None
        now = self.clock()
        ready = self._first_at + self.linger_s
        if self._last_sent is not None:
            ready = max(ready, self._last_sent + self.min_interval_s)
        return max(0.0, ready - now)

    def take(self) -> str | None:
        wait = self.due_in()
        if wait is None or wait > 0:
            return None
        lines: list[str] = []
        size = 0
        while self._alerts and len(lines) < self.max_lines:
            line = _clip(self._alerts[0], self.max_chars // 2)
            if lines and size + len(line) + 1 > self.max_chars - 200:
                break
            lines.append(line)
            size += len(line) + 1
            self._alerts.popleft()
        while self._fills and len(lines) < self.max_lines:
            line = _clip(self._fills[0][1], self.max_chars // 4)
            if size + len(line) + 1 > self.max_chars - 200:
                break
            lines.append(line)
            size += len(line) + 1
            self._fills.popleft()
        if self._fills and not self._alerts:
            lines.append(_folded(self._fills))
            self._fills.clear()
        now = self.clock()
        self._last_sent = now
        self._first_at = now if self.waiting else None
        return "\n".join(lines)


def _clip(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _folded(fills: deque[tuple[str, str]]) -> str:
    per_bot = Counter(bot for bot, _ in fills)
    parts = ", ".join(f"{bot} {count}" for bot, count in sorted(per_bot.items()))
    return f"… and {len(fills)} more fills ({parts})"
