"""Fault injection: the failures a real Bybit connection has, on demand and per test.

Every fault is armed for a bounded number of requests or messages and disarms itself, so a test
states exactly how much trouble it wants. The same object is driven in-process
(``sim.faults.rate_limit(2)``) or through ``POST /sim/faults`` (see :func:`apply_spec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.simulator.errors import RetCode

CHANNELS = ("public", "private", "any")


@dataclass(slots=True)
class RestFault:
    remaining: int
    ret_code: int | None = None
    http_status: int | None = None
    path: str | None = None
    after: bool = False  # the request is carried out; only its answer is replaced

    def matches(self, path: str) -> bool:
        return self.remaining > 0 and (self.path is None or path == self.path)


@dataclass(slots=True)
class WsFault:
    kind: str  # "drop" | "delay" | "reorder"
    remaining: int
    channel: str = "any"
    delay_ms: int = 0

    def matches(self, channel: str) -> bool:
        return self.remaining > 0 and self.channel in ("any", channel)


@dataclass(slots=True)
class ExtraRows:
    """Rows appended to the ``list`` of the next ``remaining`` answers on a path or WS topic."""

    rows: list[dict[str, Any]]
    remaining: int
    path: str | None = None
    topic: str | None = None


@dataclass(slots=True)
class Faults:
    rest: list[RestFault] = field(default_factory=list)
    ws: list[WsFault] = field(default_factory=list)
    duplicate_executions: int = 0
    extra: list[ExtraRows] = field(default_factory=list)
    # Requests that suffered a REST fault, by path: a record (``clear`` keeps it), so a test can
    # tell that the faults it armed really hit the path it meant.
    rest_hits: dict[str, int] = field(default_factory=dict)

    # --- REST -------------------------------------------------------------------------------
    def fail_rest(self, *, count: int = 1, ret_code: int | None = None,
                  http_status: int | None = None, path: str | None = None,
                  after: bool = False) -> None:
        _positive("count", count)
        if (ret_code is None) == (http_status is None):
            raise InvalidField("fault", (ret_code, http_status), "give ret_code or http_status")
        if http_status is not None and not 500 <= http_status <= 599:
            raise InvalidField("fault.http_status", http_status, "must be 5xx")
        if after and http_status is None:
            raise InvalidField("fault.after", after, "only an HTTP status can replace an answer")
        self.rest.append(RestFault(count, ret_code, http_status, path, after))

    def rate_limit(self, count: int = 1, path: str | None = None) -> None:
        """The next ``count`` requests answer retCode 10006 with exhausted X-Bapi-Limit headers."""
        self.fail_rest(count=count, ret_code=RetCode.RATE_LIMIT, path=path)

    def timestamp_error(self, count: int = 1, path: str | None = None) -> None:
        """The next ``count`` signed requests answer retCode 10002, as if the clock had drifted."""
        self.fail_rest(count=count, ret_code=RetCode.TIMESTAMP, path=path)

    def server_error(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        self.fail_rest(count=count, http_status=status, path=path)

    def lose_reply(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        """The next ``count`` requests are carried out, but answered with HTTP ``status`` as if
        the reply had been lost between Bybit and the client (the resend hazard)."""
        self.fail_rest(count=count, http_status=status, path=path, after=True)

    def extra_rows(self, rows: list[dict[str, Any]], *, path: str | None = None,
                   topic: str | None = None, count: int = 1) -> None:
        """Append ``rows`` (raw Bybit JSON objects, e.g. an ``execType`` the desk does not know)
        to the ``list`` of the next ``count`` answers on REST ``path``, or to the ``data`` of the
        next ``count`` private pushes on ``topic``."""
        _positive("count", count)
        if (path is None) == (topic is None):
            raise InvalidField("fault", (path, topic), "give path or topic")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidField("fault.rows", type(rows).__name__, "must be a list of objects")
        self.extra.append(ExtraRows([dict(r) for r in rows], count, path, topic))

    def _take_extra(self, *, path: str | None = None, topic: str | None = None
                    ) -> list[dict[str, Any]]:
        for extra in self.extra:
            if extra.remaining > 0 and (extra.path, extra.topic) == (path, topic):
                extra.remaining -= 1
                self.extra = [e for e in self.extra if e.remaining > 0]
                return [dict(r) for r in extra.rows]
        return []

    def extend_rows(self, path: str, result: Any) -> Any:
        """``result`` with any rows armed for ``path`` appended to its ``list``."""
        if not isinstance(result, dict) or not isinstance(result.get("list"), list):
            return result
        rows = self._take_extra(path=path)
        return {**result, "list": [*result["list"], *rows]} if rows else result

    def ws_rows(self, topic: str) -> list[dict[str, Any]]:
        return self._take_extra(topic=topic)

    def take_rest(self, path: str, signed: bool) -> RestFault | None:
        """The fault this request suffers, if any; 10002 only hits signed requests."""
        for fault in self.rest:
            if not fault.matches(path):
                continue
            if fault.ret_code == RetCode.TIMESTAMP and not signed:
                continue
            fault.remaining -= 1
            self.rest = [f for f in self.rest if f.remaining > 0]
            self.rest_hits[path] = self.rest_hits.get(path, 0) + 1
            return fault
        return None

    # --- WebSocket --------------------------------------------------------------------------
    def drop_ws_after(self, messages: int, channel: str = "any") -> None:
        """Cut the connection (no close frame) after it has sent ``messages`` more messages."""
        _positive("messages", messages)
        self.ws.append(WsFault("drop", messages, _channel(channel)))

    def delay_ws(self, delay_ms: int, messages: int = 1, channel: str = "any") -> None:
        _positive("messages", messages)
        _positive("delay_ms", delay_ms)
        self.ws.append(WsFault("delay", messages, _channel(channel), delay_ms))

    def reorder_ws(self, messages: int = 1, channel: str = "any") -> None:
        """Hold each of the next ``messages`` messages back until the one after it is sent."""
        _positive("messages", messages)
        self.ws.append(WsFault("reorder", messages, _channel(channel)))

    def duplicate_execution(self, count: int = 1) -> None:
        """Push each of the next ``count`` private execution messages twice."""
        _positive("count", count)
        self.duplicate_executions += count

    def take_ws(self, kind: str, channel: str) -> WsFault | None:
        for fault in self.ws:
            if fault.kind == kind and fault.matches(channel):
                fault.remaining -= 1
                self.ws = [f for f in self.ws if f.remaining > 0]
                return fault
        return None

    def take_duplicate(self) -> bool:
        if self.duplicate_executions <= 0:
            return False
        self.duplicate_executions -= 1
        return True

    def clear(self) -> None:
        self.rest.clear()
        self.ws.clear()
        self.duplicate_executions = 0
        self.extra.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "rest": [
                {"remaining": f.remaining, "retCode": f.ret_code, "httpStatus": f.http_status,
                 "path": f.path, "afterProcessing": f.after} for f in self.rest
            ],
            "ws": [
                {"kind": f.kind, "remaining": f.remaining, "channel": f.channel,
                 "delayMs": f.delay_ms} for f in self.ws
            ],
            "duplicateExecutions": self.duplicate_executions,
            "restHits": dict(self.rest_hits),
            "extraRows": [
                {"rows": len(e.rows), "remaining": e.remaining, "path": e.path, "topic": e.topic}
                for e in self.extra
            ],
        }


def _positive(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidField(f"fault.{name}", value, "must be an int > 0")


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidField("fault.channel", channel, f"must be one of {', '.join(CHANNELS)}")
    return channel


def apply_spec(faults: Faults, spec: dict[str, Any]) -> None:
    """``POST /sim/faults`` body: ``{"fault": NAME, ...arguments}``.

    Names: rate_limit(count, path), timestamp_error(count, path), server_error(count, status,
    path), lose_reply(count, status, path), extra_rows(rows, path | topic, count),
    drop_ws_after(messages, channel), delay_ws(delay_ms, messages, channel),
    reorder_ws(messages, channel), duplicate_execution(count), clear().
    """
    name = spec.get("fault")
    args = {k: v for k, v in spec.items() if k != "fault"}
    actions: dict[str, Callable[..., None]] = {
        "rate_limit": faults.rate_limit,
        "timestamp_error": faults.timestamp_error,
        "server_error": faults.server_error,
        "lose_reply": faults.lose_reply,
        "extra_rows": faults.extra_rows,
        "drop_ws_after": faults.drop_ws_after,
        "delay_ws": faults.delay_ws,
        "reorder_ws": faults.reorder_ws,
        "duplicate_execution": faults.duplicate_execution,
        "clear": faults.clear,
    }
    action = actions.get(str(name))
    if action is None:
        raise InvalidField("fault", name, f"must be one of {', '.join(actions)}")
    try:
        action(**args)
    except TypeError as exc:
        raise InvalidField(f"fault.{name}", sorted(args), str(exc)) from None
