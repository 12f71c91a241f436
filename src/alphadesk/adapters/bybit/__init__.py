"""Bybit V5 (USDT linear perpetuals, unified account, one-way mode) behind typed calls.

Transport is ccxt (signing, sessions, demo/testnet/live routing) for REST and a small aiohttp
client for the WebSockets; this package adds the wire types (:mod:`schemas`), pure parsing into
domain objects (:mod:`parse`, :mod:`parse_market`, :mod:`ws_decode`), the error policy
(:mod:`errors`, :mod:`rest`), the 7-day history windows (:mod:`history`), and the start-up key
check (:mod:`permissions`). Start with :class:`BybitClient`.
"""

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
