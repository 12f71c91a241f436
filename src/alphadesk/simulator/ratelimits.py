"""Bybit's per-key request limits, counted and (where configured) enforced.

Bybit counts requests per UID and endpoint in one-second windows, reports what is left in
``X-Bapi-Limit``/``X-Bapi-Limit-Status``/``X-Bapi-Limit-Reset-Timestamp`` on every private answer,
and refuses the request over the limit with retCode 10006 (HTTP 200, same headers). A client's
rate gate is only tested if the server really refuses, so the order endpoints are enforced by
default at Bybit's non-VIP 10/s; every other private path is counted and reported at a generous
50/s but never refused, so tests that read a lot stay unaffected. Both are configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from alphadesk.domain.errors import InvalidField

ORDER_PATHS = ("/v5/order/create", "/v5/order/amend", "/v5/order/cancel", "/v5/order/cancel-all")


@dataclass(frozen=True, slots=True)
class LimitGroup:
    """Paths that share one window per key (Bybit: each order endpoint is its own group)."""

    name: str
    per_second: int
    enforced: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.per_second, int) or self.per_second <= 0:
            raise InvalidField(f"rate_limit.{self.name}", self.per_second, "must be an int > 0")


def _bybit_groups() -> Mapping[str, LimitGroup]:
    return MappingProxyType({path: LimitGroup(path, 10) for path in ORDER_PATHS})


@dataclass(frozen=True, slots=True)
class RateLimits:
    """``groups`` maps a path to its group; any other private path has its own window of
    ``other_per_second``, enforced only with ``enforce_other``."""

    groups: Mapping[str, LimitGroup] = field(default_factory=_bybit_groups)
    other_per_second: int = 50
    enforce_other: bool = False
    window_ms: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.window_ms, int) or self.window_ms <= 0:
            raise InvalidField("rate_limit.window_ms", self.window_ms, "must be an int > 0")
        if not isinstance(self.other_per_second, int) or self.other_per_second <= 0:
            raise InvalidField(
                "rate_limit.other_per_second", self.other_per_second, "must be an int > 0"
            )

    @classmethod
    def reported_only(cls) -> RateLimits:
        """Headers as Bybit sends them, never a refusal (for load tests of something else)."""
        groups = {p: LimitGroup(g.name, g.per_second, enforced=False)
                  for p, g in _bybit_groups().items()}
        return cls(groups=MappingProxyType(groups))

    @classmethod
    def orders(cls, per_second: int, *, window_ms: int = 1000) -> RateLimits:
        """Every order endpoint enforced at ``per_second`` (each in its own window)."""
        groups = {p: LimitGroup(p, per_second) for p in ORDER_PATHS}
        return cls(groups=MappingProxyType(groups), window_ms=window_ms)

    def group(self, path: str) -> LimitGroup:
        found = self.groups.get(path)
        if found is not None:
            return found
        return LimitGroup(path, self.other_per_second, self.enforce_other)


def limit_headers(limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    return {
        "X-Bapi-Limit": str(limit),
        "X-Bapi-Limit-Status": str(remaining),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


class RateWindows:
    """Requests per (key, group) in the current window; a refused request is not counted."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self.refused = 0
        self.refused_by_path: dict[str, int] = {}
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def hit(self, key: str, path: str, now_ms: int) -> Verdict:
        group = self.limits.group(path)
        limit = group.per_second
        start, used = self._windows.get((key, group.name), (now_ms, 0))
        if now_ms - start >= self.limits.window_ms:
            start, used = now_ms, 0
        reset = start + self.limits.window_ms
        if group.enforced and used >= limit:
            self.refused += 1
            self.refused_by_path[path] = self.refused_by_path.get(path, 0) + 1
            self._windows[(key, group.name)] = (start, used)
            return Verdict(False, limit_headers(limit, 0, reset))
        used += 1
        self._windows[(key, group.name)] = (start, used)
        return Verdict(True, limit_headers(limit, max(0, limit - used), reset))
