"""Bybit's WebSocket authentication (REST signing is ccxt's).

The private stream is authenticated with ``op=auth`` and ``[api_key, expires, signature]``, where
the signature is hex HMAC-SHA256 of ``"GET/realtime" + expires`` under the secret, and ``expires``
is a Bybit-clock millisecond a few seconds ahead (so a skewed local clock is corrected first).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from alphadesk.adapters.bybit.secret import Secret


def ws_signature(secret: Secret, expires_ms: int) -> str:
    payload = f"GET/realtime{expires_ms}".encode()
    return hmac.new(secret.reveal().encode(), payload, hashlib.sha256).hexdigest()


def ws_auth_message(api_key: str, secret: Secret, expires_ms: int, req_id: str) -> dict[str, Any]:
    return {
        "req_id": req_id,
        "op": "auth",
        "args": [api_key, expires_ms, ws_signature(secret, expires_ms)],
    }


def rest_signature(
    secret: Secret, timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str
) -> str:
    """V5 REST signature (what ccxt sends): for checking requests, e.g. in a simulator."""
    text = f"{timestamp_ms}{api_key}{recv_window_ms}{payload}".encode()
    return hmac.new(secret.reveal().encode(), text, hashlib.sha256).hexdigest()
