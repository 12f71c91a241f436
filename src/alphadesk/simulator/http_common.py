"""Bybit's REST envelope, request parameters, signed-request checks and rate-limit headers.

Every answer is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` with HTTP 200, as Bybit
sends them; errors keep the envelope and put the code in ``retCode``. Private answers carry the
``X-Bapi-Limit*`` headers Bybit sends, from a per key and path one-second window, and a request
over an enforced limit is refused with 10006 (see :mod:`ratelimits`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.domain.errors import InvalidField
from alphadesk.simulator.accounts import SimAccount
from alphadesk.simulator.auth import verify_rest
from alphadesk.simulator.errors import ApiError, RetCode
from alphadesk.simulator.exchange import SimExchange
from alphadesk.simulator.ratelimits import RateWindows, limit_headers

log = logging.getLogger(__name__)


def wall_ms() -> int:
    """The server's clock: what ``/v5/market/time`` reports and signatures are checked against."""
    return time.time_ns() // 1_000_000


def envelope(result: Any, ret_code: int = 0, ret_msg: str = "OK") -> dict[str, Any]:
    return {"retCode": ret_code, "retMsg": ret_msg, "result": result, "retExtInfo": {},
            "time": wall_ms()}


def ok(result: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(envelope(result), headers=headers)


def error_response(err: ApiError, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(envelope({}, err.ret_code, err.ret_msg), status=err.http_status,
                             headers=headers)


@dataclass(frozen=True, slots=True)
class Call:
    """One request's parameters (query for GET, JSON body for POST) and, when signed, who."""

    params: dict[str, Any]
    account: SimAccount | None
    exchange: SimExchange

    @property
    def who(self) -> SimAccount:
        if self.account is None:
            raise ApiError(RetCode.INVALID_KEY, "API key is invalid.")
        return self.account

    def text(self, name: str, default: str | None = None) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            if default is None:
                raise ApiError(RetCode.PARAMS_ERROR, f"params error: {name} is required")
            return default
        return str(value)

    def opt(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None or value == "" else str(value)

    def decimal(self, name: str) -> Decimal | None:
        value = self.opt(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ApiError(RetCode.PARAMS_ERROR, f"params error: {name} invalid") from None
        if not number.is_finite():
            raise ApiError(RetCode.PARAMS_ERROR, f"params error: {name} invalid")
        return number

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.opt(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(RetCode.PARAMS_ERROR, f"params error: {name} invalid") from None

    def boolean(self, name: str) -> bool:
        value = self.params.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1") if value is not None else False

    def limit(self, default: int, maximum: int) -> int:
        limit = self.integer("limit", default)
        assert limit is not None
        if not 1 <= limit <= maximum:
            raise ApiError(RetCode.PARAMS_ERROR, f"params error: limit must be 1..{maximum}")
        return limit

    def linear(self) -> None:
        category = self.text("category")
        if category != "linear":
            raise ApiError(RetCode.PARAMS_ERROR,
                           f"params error: category {category} is not served (linear only)")

    def symbol(self, required: bool = True) -> str | None:
        symbol = self.opt("symbol") if not required else self.text("symbol")
        if symbol is not None and symbol not in self.exchange.instruments:
            raise ApiError(RetCode.PARAMS_ERROR, f"params error: symbol invalid: {symbol}")
        return symbol


Handler = Callable[[Call], Awaitable[Any]]


def endpoint(exchange: SimExchange, limits: RateWindows, handler: Handler, *,
             private: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler with Bybit's envelope, faults, signature checks and limit headers."""

    async def run(request: web.Request) -> web.StreamResponse:
        raw = await request.text() if request.method == "POST" else request.query_string
        now = wall_ms()
        fault = exchange.faults.take_rest(request.path, signed=private)
        if fault is not None and fault.http_status is not None and not fault.after:
            return _bad_gateway(fault.http_status)
        if fault is not None and fault.ret_code is not None:
            limited = limit_headers(limits.limits.group(request.path).per_second, 0,
                                    now + 1000) if fault.ret_code == RetCode.RATE_LIMIT else None
            messages: dict[int, str] = {
                RetCode.RATE_LIMIT: "Too many visits. Exceeded the API Rate Limit.",
                RetCode.TIMESTAMP: "invalid request, please check your server timestamp or "
                f"recv_window param. req_timestamp[{now - 6000}],server_timestamp[{now}],"
                "recv_window[5000]",
            }
            message = messages.get(fault.ret_code, "injected fault")
            return error_response(ApiError(fault.ret_code, message), limited)
        answer = await _answer(request, raw, now, exchange, limits, handler, private)
        if fault is not None and fault.http_status is not None:
            return _bad_gateway(fault.http_status)  # done, but the answer is lost on the way
        return answer

    return run


async def _answer(request: web.Request, raw: str, now: int, exchange: SimExchange,
                  limits: RateWindows, handler: Handler, private: bool) -> web.Response:
    account: SimAccount | None = None
    headers: dict[str, str] | None = None
    try:
        if private:
            signed = verify_rest(request.headers, raw, exchange.accounts, now)
            account = signed.account
            verdict = limits.hit(account.key, request.path, now)
            headers = verdict.headers
            if not verdict.allowed:
                raise ApiError(RetCode.RATE_LIMIT,
                               "Too many visits. Exceeded the API Rate Limit.")
        params = _params(request, raw)
        result = await handler(Call(params, account, exchange))
        result = exchange.faults.extend_rows(request.path, result)
    except ApiError as err:
        return error_response(err, headers)
    except OrderRejected as err:
        return error_response(ApiError(int(err.code), f"{err.field}={err.value!r}: "
                                       f"{err.reason}"), headers)
    except InvalidField as err:
        return error_response(ApiError(RetCode.PARAMS_ERROR, f"params error: {err}"), headers)
    except Exception:
        log.exception("simulator: %s %s failed", request.method, request.path)
        return error_response(ApiError(RetCode.SERVER_ERROR, "Internal System Error."), headers)
    return ok(result, headers)


def _bad_gateway(status: int) -> web.Response:
    return web.Response(status=status, text="<html>bad gateway</html>", content_type="text/html")


def _params(request: web.Request, raw: str) -> dict[str, Any]:
    if request.method != "POST":
        return dict(request.query)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(RetCode.PARAMS_ERROR, "params error: body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(RetCode.PARAMS_ERROR, "params error: body must be a JSON object")
    return body
