"""Bybit V5 (USDT linear perpetuals, unified account, one-way mode) behind typed calls.

Transport is ccxt (signing, sessions, demo/testnet/live routing) for REST and a small aiohttp
client for the WebSockets; this package adds the wire types (:mod:`schemas`), pure parsing into
domain objects (:mod:`parse`, :mod:`parse_market`, :mod:`ws_decode`), the error policy
(:mod:`errors`, :mod:`rest`), the 7-day history windows (:mod:`history`), and the start-up key
check (:mod:`permissions`). Start with :class:`BybitClient`.

The names below are loaded on first use (PEP 562): a backtest that only reads instrument rules
through :mod:`schemas` and :mod:`parse_market` must not pay for importing ccxt and aiohttp
(about 2 s of CPU per process, and a sweep starts one per worker).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alphadesk.adapters.bybit.client import BybitClient
    from alphadesk.adapters.bybit.config import AccountConfig, Environment, environment_from_env
    from alphadesk.adapters.bybit.errors import (
        Action,
        AuthenticationFailed,
        BybitError,
        BybitUnavailable,
        DuplicateOrderLinkId,
        InsufficientBalance,
        InvalidRequest,
        NotModified,
        OrderNotFound,
        PermissionDenied,
        RateLimited,
        ReduceOnlyRejected,
        RequestRejected,
        TimestampRejected,
        UnsafeApiKey,
    )
    from alphadesk.adapters.bybit.rest import RetryPolicy
    from alphadesk.adapters.bybit.secret import Secret
    from alphadesk.adapters.bybit.wire import MalformedPayload
    from alphadesk.adapters.bybit.ws import WsSettings

_HOME = {
    "BybitClient": "client",
    "AccountConfig": "config",
    "Environment": "config",
    "environment_from_env": "config",
    **dict.fromkeys(
        (
            "Action",
            "AuthenticationFailed",
            "BybitError",
            "BybitUnavailable",
            "DuplicateOrderLinkId",
            "InsufficientBalance",
            "InvalidRequest",
            "NotModified",
            "OrderNotFound",
            "PermissionDenied",
            "RateLimited",
            "ReduceOnlyRejected",
            "RequestRejected",
            "TimestampRejected",
            "UnsafeApiKey",
        ),
        "errors",
    ),
    "RetryPolicy": "rest",
    "Secret": "secret",
    "MalformedPayload": "wire",
    "WsSettings": "ws",
}

__all__ = [
    "AccountConfig",
    "Action",
    "AuthenticationFailed",
    "BybitClient",
    "BybitError",
    "BybitUnavailable",
    "DuplicateOrderLinkId",
    "Environment",
    "InsufficientBalance",
    "InvalidRequest",
    "MalformedPayload",
    "NotModified",
    "OrderNotFound",
    "PermissionDenied",
    "RateLimited",
    "ReduceOnlyRejected",
    "RequestRejected",
    "RetryPolicy",
    "Secret",
    "TimestampRejected",
    "UnsafeApiKey",
    "WsSettings",
    "environment_from_env",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` the first time someone asks for it."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
