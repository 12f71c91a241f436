"""Builds the ccxt exchange object for an account and says where its sockets go.

ccxt signs, rate-limits and keeps the HTTP session; its own demo/testnet switches route REST and the
WebSocket URL table, so the routing rules live in one place (ccxt) and are checked in tests on the
object itself. One ``ccxt.pro.bybit`` (a subclass of the ``async_support`` one) serves both: REST
through its raw implicit methods, and its ``urls['api']['ws']`` table for our own WebSocket client.
Demo keeps public market data on mainnet, as Bybit's demo service has no public streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ccxt.pro

from alphadesk.adapters.bybit.config import AccountConfig, Environment

_REST_API_NAMES = ("spot", "futures", "v2", "public", "private")


@dataclass(frozen=True, slots=True)
class Endpoints:
    rest: str
    public_ws: str
    private_ws: str


def _ws_base(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url.removeprefix("https://")
    return "ws://" + base_url.removeprefix("http://")


def _override_urls(exchange: Any, base_url: str) -> None:
    """Point every REST API name and every WS URL of the exchange at one local server."""
    base = base_url.rstrip("/")
    ws = _ws_base(base)
    private = f"{ws}/v5/private"
    exchange.urls["api"] = {
        **{name: base for name in _REST_API_NAMES},
        "ws": {
            "public": {c: f"{ws}/v5/public/{c}" for c in ("spot", "linear", "inverse", "option")},
            "private": {
                "contract": private,
                "unified": private,
                "usdc": private,
                "trade": f"{ws}/v5/trade",
                "spot": {"unified": private, "nonUnified": private},
            },
        },
    }


def build_exchange(config: AccountConfig) -> Any:
    """A configured, not yet connected ``ccxt.pro.bybit``; no network is touched here."""
    params: dict[str, Any] = {
        "enableRateLimit": config.ccxt_pacing,
        "timeout": config.timeout_ms,
        "options": {
            "recvWindow": config.recv_window_ms,
            "defaultType": "swap",
            "defaultSubType": "linear",
            "fetchMarkets": {"types": ["linear"]},
            "adjustForTimeDifference": False,
        },
    }
    if config.has_credentials:
        params["apiKey"] = config.api_key
        params["secret"] = config.secret.reveal()
    exchange = ccxt.pro.bybit(params)
    if config.environment is Environment.DEMO:
        exchange.enable_demo_trading(True)
    elif config.environment is Environment.TESTNET:
        exchange.set_sandbox_mode(True)
    if config.base_url is not None:
        _override_urls(exchange, config.base_url)
    exchange.enableLastResponseHeaders = True
    return exchange


def endpoints_of(exchange: Any) -> Endpoints:
    """The REST base and the linear public / private WebSocket URLs the exchange is routed to."""
    api = exchange.urls["api"]
    return Endpoints(
        rest=exchange.implode_hostname(api["private"]),
        public_ws=exchange.implode_hostname(api["ws"]["public"]["linear"]),
        private_ws=exchange.implode_hostname(api["ws"]["private"]["contract"]),
    )
