"""What went wrong at Bybit, and what the caller should do about it.

Every failure leaving the adapter is a :class:`BybitError` whose class says the action: retry the
same request, back off, re-sync the clock, halt the account (keys or permissions are wrong: trading
on must stop until a human looks), or accept the rejection (this order cannot be placed as asked).
The ``ret_code`` is kept so logs and the operator see Bybit's own number. ccxt's exceptions are
translated at the boundary in :func:`from_ccxt`; nothing above the adapter imports ccxt.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

import ccxt


class Action(StrEnum):
    RETRY = "retry"
    BACK_OFF = "back_off"
    RESYNC = "resync"
    HALT = "halt"
    REJECT = "reject"


class BybitError(Exception):
    action: Action = Action.REJECT

    def __init__(self, message: str, *, ret_code: int | None = None, endpoint: str = "") -> None:
        self.ret_code = ret_code
        self.endpoint = endpoint
        self.attempts = 1
        self.ret_msg = message
        where = f" on {endpoint}" if endpoint else ""
        code = f"retCode {ret_code}: " if ret_code is not None else ""
        super().__init__(f"{code}{message}{where} (action: {self.action})")


# --- retry -----------------------------------------------------------------------------------
class BybitUnavailable(BybitError):
    """Server error, HTTP 5xx, timeout or dropped connection: the same request may be retried."""

    action = Action.RETRY


# --- back off ---------------------------------------------------------------------------------
class RateLimited(BybitError):
    action = Action.BACK_OFF

    def __init__(
        self,
        message: str,
        *,
        ret_code: int | None = None,
        endpoint: str = "",
        reset_at_ms: int | None = None,
    ) -> None:
        self.reset_at_ms = reset_at_ms
        super().__init__(message, ret_code=ret_code, endpoint=endpoint)


# --- resync -----------------------------------------------------------------------------------
class TimestampRejected(BybitError):
    """10002: our timestamp is outside recv_window; re-sync the clock and send again."""

    action = Action.RESYNC


# --- halt -------------------------------------------------------------------------------------
class AuthenticationFailed(BybitError):
    """Bad key, bad signature, expired key, banned IP: nothing this account sends will work."""

    action = Action.HALT


class PermissionDenied(AuthenticationFailed):
    pass


class UnsafeApiKey(BybitError):
    """The key may move funds out (withdraw or transfer): refused at start-up by policy."""

    action = Action.HALT


# --- reject -----------------------------------------------------------------------------------
class RequestRejected(BybitError):
    """Bybit refused this request as asked (parameters, balance, state); retrying will not help."""

    action = Action.REJECT


class InvalidRequest(RequestRejected):
    pass


class OrderNotFound(RequestRejected):
    pass


class InsufficientBalance(RequestRejected):
    pass


class ReduceOnlyRejected(RequestRejected):
    pass


class DuplicateOrderLinkId(RequestRejected):
    pass


class NotModified(RequestRejected):
    """110043 / 34040: nothing to change. Callers that set a value treat this as success."""


RET_CODES: dict[int, type[BybitError]] = {
    10000: BybitUnavailable,  # server timeout
    10001: InvalidRequest,
    10002: TimestampRejected,
    10003: AuthenticationFailed,  # invalid api key
    10004: AuthenticationFailed,  # error sign
    10005: PermissionDenied,
    10006: RateLimited,
    10007: AuthenticationFailed,  # user authentication failed
    10008: AuthenticationFailed,  # common banned
    10009: AuthenticationFailed,  # ip banned
    10010: PermissionDenied,  # unmatched ip
    10016: BybitUnavailable,  # server error
    10018: RateLimited,  # exceeded the ip rate limit
    10027: PermissionDenied,  # transactions are banned
    10029: InvalidRequest,  # symbol not in whitelist
    33004: AuthenticationFailed,  # api key expired
    34040: NotModified,
    110001: OrderNotFound,
    110004: InsufficientBalance,  # wallet balance insufficient
    110007: InsufficientBalance,  # available balance insufficient
    110012: InsufficientBalance,
    110017: ReduceOnlyRejected,
    110043: NotModified,  # leverage not modified
    110072: DuplicateOrderLinkId,
}

# Return codes that mean "already as asked": a setter that receives one has succeeded.
NOT_MODIFIED_CODES = frozenset({34040, 110043})


def for_ret_code(
    ret_code: int, ret_msg: str, *, endpoint: str = "", reset_at_ms: int | None = None
) -> BybitError:
    cls = RET_CODES.get(ret_code)
    if cls is None:
        # 5xxxx/1xxxx server-side codes we do not know are safer treated as rejections than retried.
        cls = RequestRejected
    if cls is RateLimited:
        return RateLimited(ret_msg, ret_code=ret_code, endpoint=endpoint, reset_at_ms=reset_at_ms)
    return cls(ret_msg, ret_code=ret_code, endpoint=endpoint)


_STATUS_RE = re.compile(r"\b(GET|POST|PUT|DELETE) \S+ (\d{3}) ")


def _body_of(message: str) -> dict[str, Any] | None:
    start = message.find("{")
    if start < 0:
        return None
    try:
        body = json.loads(message[start:])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _ret_code_of(body: dict[str, Any]) -> tuple[int, str] | None:
    raw = body.get("retCode", body.get("ret_code"))
    if not isinstance(raw, int | str):
        return None
    try:
        return int(raw), str(body.get("retMsg", body.get("ret_msg", "")))
    except (TypeError, ValueError):
        return None


def from_ccxt(
    exc: Exception,
    *,
    endpoint: str,
    last_body: Any = None,
    reset_at_ms: int | None = None,
) -> BybitError:
    """Translate a ccxt exception, recovering Bybit's retCode from the body ccxt embeds.

    Our message is rebuilt from retCode/retMsg alone: ccxt's text can carry URLs and bodies, and a
    message we write ourselves is one we know holds no secret.
    """
    body = _body_of(str(exc))
    if body is None and isinstance(last_body, dict):
        body = last_body
    parsed = _ret_code_of(body) if body is not None else None
    if parsed is not None and parsed[0] != 0:
        return for_ret_code(parsed[0], parsed[1], endpoint=endpoint, reset_at_ms=reset_at_ms)
    status = _STATUS_RE.search(str(exc))
    http = int(status.group(2)) if status else None
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection) or http == 429:
        return RateLimited(f"HTTP {http or 429}", endpoint=endpoint, reset_at_ms=reset_at_ms)
    if http is not None and http >= 500:
        return BybitUnavailable(f"HTTP {http}", endpoint=endpoint)
    if isinstance(exc, ccxt.NetworkError):
        return BybitUnavailable(f"network error ({type(exc).__name__})", endpoint=endpoint)
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthenticationFailed(f"authentication ({type(exc).__name__})", endpoint=endpoint)
    if http is not None:
        return RequestRejected(f"HTTP {http}", endpoint=endpoint)
    return RequestRejected(f"{type(exc).__name__}", endpoint=endpoint)
