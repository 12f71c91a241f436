"""retCode -> exception class (and so -> action), with ccxt's own exceptions translated."""

from __future__ import annotations

import json
import random
from typing import Any

import ccxt
import pytest

from alphadesk.adapters.bybit import errors as e
from alphadesk.adapters.bybit.config import AccountConfig
from alphadesk.adapters.bybit.ratelimit import RateLimitGate, backoff_delay, limit_status
from alphadesk.adapters.bybit.secret import Secret
from alphadesk.adapters.bybit.transport import build_exchange

EXPECTED: dict[int, tuple[type[e.BybitError], e.Action]] = {
    10001: (e.InvalidRequest, e.Action.REJECT),
    10002: (e.TimestampRejected, e.Action.RESYNC),
    10003: (e.AuthenticationFailed, e.Action.HALT),
    10004: (e.AuthenticationFailed, e.Action.HALT),
    10005: (e.PermissionDenied, e.Action.HALT),
    10006: (e.RateLimited, e.Action.BACK_OFF),
    10016: (e.BybitUnavailable, e.Action.RETRY),
    110001: (e.OrderNotFound, e.Action.REJECT),
    110007: (e.InsufficientBalance, e.Action.REJECT),
    110017: (e.ReduceOnlyRejected, e.Action.REJECT),
    110043: (e.NotModified, e.Action.REJECT),
    34040: (e.NotModified, e.Action.REJECT),
    110072: (e.DuplicateOrderLinkId, e.Action.REJECT),
    999999: (e.RequestRejected, e.Action.REJECT),
}


@pytest.fixture
def exchange() -> Any:
    return build_exchange(AccountConfig("acct", "key", Secret("s3cr3t-value")))


def ccxt_raises(exchange: Any, url: str, body: dict[str, Any], status: int = 200) -> Exception:
    """Run ccxt's own error handling on a Bybit body, as fetch() does, and return what it raised."""
    text = json.dumps(body)
    try:
        exchange.handle_errors(status, "OK", url, "POST", {}, text, body, {}, None)
        exchange.handle_http_status_code(status, "reason", url, "POST", text)
    except ccxt.BaseError as exc:
        raised: Exception = exc
        return raised
    raise AssertionError("ccxt raised nothing")


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_ret_code_maps_to_class_and_action(exchange: Any, code: int) -> None:
    body = {"retCode": code, "retMsg": f"msg {code}", "result": {}, "time": 1}
    raised = ccxt_raises(exchange, "https://api.bybit.com/v5/order/create", body)
    error = e.from_ccxt(raised, endpoint="/v5/order/create")
    cls, action = EXPECTED[code]
    assert type(error) is cls
    assert error.action is action
    assert error.ret_code == code
    assert f"retCode {code}: msg {code} on /v5/order/create" in str(error)


def test_not_modified_codes_are_success_for_setters() -> None:
    assert {110043, 34040} == e.NOT_MODIFIED_CODES


def test_rate_limited_keeps_reset_time(exchange: Any) -> None:
    body = {"retCode": 10006, "retMsg": "Too many visits!"}
    raised = ccxt_raises(exchange, "https://x/v5/order/create", body)
    error = e.from_ccxt(raised, endpoint="/v5/order/create", reset_at_ms=1_700_000_000_123)
    assert isinstance(error, e.RateLimited) and error.reset_at_ms == 1_700_000_000_123


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_without_json_is_retry(exchange: Any, status: int) -> None:
    url = "https://api.bybit.com/v5/order/realtime"
    try:
        exchange.handle_http_status_code(status, "Bad Gateway", url, "GET", "<html>oops</html>")
    except ccxt.BaseError as exc:
        error = e.from_ccxt(exc, endpoint="/v5/order/realtime")
    assert isinstance(error, e.BybitUnavailable) and error.action is e.Action.RETRY
    assert f"HTTP {status}" in str(error)


def test_http_429_and_network_errors() -> None:
    too_many = ccxt.RateLimitExceeded("bybit GET https://x/v5/market/kline 429 Too Many ")
    assert isinstance(e.from_ccxt(too_many, endpoint="k"), e.RateLimited)
    timeout = e.from_ccxt(ccxt.RequestTimeout("bybit GET x"), endpoint="k")
    assert isinstance(timeout, e.BybitUnavailable)
    assert isinstance(
        e.from_ccxt(ccxt.ExchangeNotAvailable("bybit GET x"), endpoint="k"), e.BybitUnavailable
    )
    assert isinstance(
        e.from_ccxt(ccxt.AuthenticationError("requires secret"), endpoint="k"),
        e.AuthenticationFailed,
    )


def test_messages_are_ours_not_ccxts(exchange: Any) -> None:
    body = {"retCode": 10004, "retMsg": "error sign!", "result": {}}
    raised = ccxt_raises(exchange, "https://api.bybit.com/v5/order/create?x=1", body)
    error = e.from_ccxt(raised, endpoint="/v5/order/create")
    assert "api.bybit.com" not in str(error) and "s3cr3t" not in str(error)


def test_limit_headers_and_gate() -> None:
    headers = {
        "X-Bapi-Limit": "10",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": "1000500",
    }
    assert limit_status(headers).remaining == 0
    now = [1_000_000]
    gate = RateLimitGate(lambda: now[0], margin_ms=50)
    gate.observe("/v5/order/create", headers)
    assert gate.delay_for("/v5/order/create") == pytest.approx(0.55)  # the reset, and a margin
    assert gate.delay_for("/v5/order/cancel") == 0.0
    gate.observe("/v5/order/create", {**headers, "X-Bapi-Limit-Status": "3"})
    assert gate.delay_for("/v5/order/create") == 0.0


def test_backoff_grows_with_jitter_and_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, base_s=0.5, cap_s=8.0, rng=rng) for n in range(8)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)
