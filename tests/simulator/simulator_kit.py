"""Shared pieces of the simulator tests: accounts, file names and a raw signing client."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp

from alphadesk.simulator import SimAccount

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
ETH_5M = "ETHUSDT_5m_bybit-perp-20250924-20251122"
MAIN = SimAccount(key="main-key", secret="main-secret", name="bot1")
OTHER = SimAccount(key="other-key", secret="other-secret", name="bot2")
WITHDRAWER = SimAccount(key="wd-key", secret="wd-secret", name="wd", withdraw=True)


class Client:
    """A raw Bybit V5 client: aiohttp plus manual signing, nothing of ours in between."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    @staticmethod
    def headers(account: SimAccount, payload: str, ts: int | None = None,
                recv_window: str = "5000", secret: str | None = None) -> dict[str, str]:
        stamp = str(ts if ts is not None else int(time.time() * 1000))
        text = f"{stamp}{account.key}{recv_window}{payload}"
        sig = hmac.new((secret or account.secret).encode(), text.encode(),
                       hashlib.sha256).hexdigest()
        return {"X-BAPI-API-KEY": account.key, "X-BAPI-SIGN": sig, "X-BAPI-TIMESTAMP": stamp,
                "X-BAPI-RECV-WINDOW": recv_window, "Content-Type": "application/json"}

    async def public(self, path: str, **params: Any) -> dict[str, Any]:
        async with self.session.get(self.base + path, params=params) as resp:
            assert resp.status == 200
            return dict(await resp.json())

    async def get(self, account: SimAccount, path: str, query: str = "",
                  **kw: Any) -> tuple[int, dict[str, str], Any]:
        headers = self.headers(account, query, **kw)
        url = f"{self.base}{path}?{query}" if query else self.base + path
        async with self.session.get(url, headers=headers) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, dict(resp.headers), body

    async def post(self, account: SimAccount, path: str, body: dict[str, Any],
                   **kw: Any) -> tuple[int, dict[str, str], Any]:
        raw = json.dumps(body)
        async with self.session.post(self.base + path, data=raw,
                                     headers=self.headers(account, raw, **kw)) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, dict(resp.headers), data

    async def ok_get(self, account: SimAccount, path: str, query: str = "") -> dict[str, Any]:
        status, _, body = await self.get(account, path, query)
        assert status == 200 and body["retCode"] == 0, body
        return dict(body["result"])

    async def ok_post(self, account: SimAccount, path: str,
                      body: dict[str, Any]) -> dict[str, Any]:
        status, _, data = await self.post(account, path, body)
        assert status == 200 and data["retCode"] == 0, data
        return dict(data["result"])
