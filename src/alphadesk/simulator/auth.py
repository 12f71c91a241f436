"""Bybit V5 request signing, checked the way the exchange checks it.

REST: ``HMAC_SHA256(secret, timestamp + api_key + recv_window + payload)`` where the payload is the
raw query string of a GET or the raw JSON body of a POST, hex in ``X-BAPI-SIGN``. The timestamp must
satisfy ``server_time - recv_window <= timestamp < server_time + 1000`` (retCode 10002). WebSocket:
``{"op": "auth", "args": [key, expires, HMAC(secret, "GET/realtime" + expires)]}``. A signed
request that changes orders or positions with a key that may not trade (read-only, or without
``ContractTrade: Order``) is refused with 10005, as Bybit refuses it.
Checks run against the real wall clock, which is what ``/v5/market/time`` reports, so a client that
re-syncs its clock from that endpoint can recover from 10002.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from alphadesk.simulator.accounts import SimAccount
from alphadesk.simulator.errors import ApiError, RetCode

DEFAULT_RECV_WINDOW = 5000


def sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedRequest:
    account: SimAccount
    timestamp: int
    recv_window: int


def verify_rest(
    headers: Mapping[str, str], payload: str, accounts: Mapping[str, SimAccount], now_ms: int
) -> SignedRequest:
    key = headers.get("X-BAPI-API-KEY", "")
    signature = headers.get("X-BAPI-SIGN", "")
    ts_text = headers.get("X-BAPI-TIMESTAMP", "")
    window_text = headers.get("X-BAPI-RECV-WINDOW", "") or str(DEFAULT_RECV_WINDOW)
    account = accounts.get(key)
    if account is None:
        raise ApiError(RetCode.INVALID_KEY, "API key is invalid.")
    try:
        timestamp = int(ts_text or "x")
        recv_window = int(window_text)
    except ValueError:
        raise ApiError(RetCode.PARAMS_ERROR, "Request parameter error.") from None
    if not now_ms - recv_window <= timestamp < now_ms + 1000:
        raise ApiError(
            RetCode.TIMESTAMP,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    expected = sign(account.secret, f"{ts_text}{key}{window_text}{payload}")
    if not hmac.compare_digest(expected, signature.lower()):
        raise ApiError(RetCode.BAD_SIGN,
                       "error sign! Please check your signature generation algorithm.")
    return SignedRequest(account, timestamp, recv_window)


def verify_ws(args: object, accounts: Mapping[str, SimAccount], now_ms: int) -> SimAccount:
    if not isinstance(args, list) or len(args) != 3:
        raise ApiError(RetCode.PARAMS_ERROR, "Params Error")
    key, expires, signature = str(args[0]), args[1], str(args[2])
    account = accounts.get(key)
    if account is None:
        raise ApiError(RetCode.INVALID_KEY, "Invalid apikey")
    try:
        expires_ms = int(expires)
    except (TypeError, ValueError):
        raise ApiError(RetCode.PARAMS_ERROR, "Params Error") from None
    if expires_ms <= now_ms:
        raise ApiError(RetCode.PARAMS_ERROR, "Params Error: request expired")
    if not hmac.compare_digest(sign(account.secret, f"GET/realtime{expires}"), signature.lower()):
        raise ApiError(RetCode.BAD_SIGN, "Invalid sign")
    return account


PERMISSION_DENIED_MESSAGE = "Permission denied, please check your API key permissions."


def require_trade(account: SimAccount) -> None:
    """Bybit's check before an order, amend, cancel or position change: 10005 for a key that
    is read-only or lacks ``ContractTrade: Order``."""
    if not account.can_trade:
        raise ApiError(RetCode.PERMISSION_DENIED, PERMISSION_DENIED_MESSAGE)
