"""Failed-login limiter: at most N failures per key in a sliding window (pure, injectable clock).

Keys are the client address and the user name, checked separately, so one address cannot guess
many users' passwords and many addresses cannot hammer one user. A success does not reset the
address's count (an attacker with one valid viewer login must not buy unlimited guesses).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, attempts: int, window_s: float, clock: Callable[[], float]) -> None:
        self._attempts = attempts
        self._window = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        queue = self._failures.setdefault(key, deque())
        while queue and queue[0] <= now - self._window:
            queue.popleft()
        if not queue:
            self._failures.pop(key, None)
        return queue

    def retry_after(self, *keys: str) -> float:
        """Seconds until a new attempt is allowed for every key; 0 when allowed now."""
        wait = 0.0
        for key in keys:
            queue = self._recent(key)
            if len(queue) >= self._attempts:
                wait = max(wait, queue[0] + self._window - self._clock())
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._recent(key)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures.pop(next(iter(self._failures)))
