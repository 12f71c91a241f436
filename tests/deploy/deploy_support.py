"""Helpers of the deployment tests: a Bybit client trading on a simulator account as a person
would (the orders whose fills the listener must record), and a condition wait."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, Secret
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount
from harness import waiting

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"


def account(name: str, i: int) -> SimAccount:
    return SimAccount(f"DEPLOY{i:04d}KEY", f"deploy-secret-{i:04d}-0123456789", name=name,
                      balance=Decimal(100_000))


async def trader(base_url: str, acct: SimAccount) -> BybitClient:
    config = AccountConfig(acct.name, acct.key, Secret(acct.secret), Environment.DEMO,
                           base_url=base_url)
    client = BybitClient(config)
    await client.rest.sync_clock()
    return client


async def market_order(client: BybitClient, bot: str, symbol: str, side: Side,
                       qty: str) -> None:
    await client.trading.create_order(OrderRequest(
        bot_id=bot, symbol=symbol, side=side, qty=Decimal(qty),
        order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY),
        order_type=OrderType.MARKET,
    ))


async def eventually(check: Callable[[], Any], within_s: float = 30.0) -> None:
    """The suite's polling loop with this folder's bound (a process start takes seconds)."""
    await waiting.eventually(check, within_s)
