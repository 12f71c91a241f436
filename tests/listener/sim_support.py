"""Running the listener against the in-process Bybit simulator, over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, RetryPolicy, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.bybit.ws import WsSettings
from alphadesk.domain import order_link
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount
from harness.waiting import eventually as eventually  # the listener tests import it here

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
ETH_5M = "ETHUSDT_5m_bybit-perp-20250924-20251122"
FAST = RetryPolicy(max_attempts=6, base_s=0.01, cap_s=0.2, max_resyncs=2)
# `python -c LAUNCH listener ...`: the real `alphadesk listener` command in a child process that
# a test can SIGKILL (the listener parser alone, so the child starts quickly).
LAUNCH = (
    "import argparse, sys\n"
    "from alphadesk.app import logging as desk_logging, settings\n"
    "from alphadesk.app.commands import listener\n"
    "parser = argparse.ArgumentParser()\n"
    "listener.register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "desk = settings.load()\n"
    "desk_logging.configure(desk.log_level, desk.secrets())\n"
    "sys.exit(args.handler(args))\n"
)

# Pings well inside the silence timeout (as in production: 20 s and 45 s): an idle socket in a
# test is not dropped as silent, so every reconnect a test sees is one it caused.
FAST_WS = WsSettings(backoff_base_s=0.02, backoff_cap_s=0.2, ping_interval_s=2.0,
                     silence_timeout_s=10.0)


def sim_account(i: int) -> SimAccount:
    return SimAccount(f"KEY{i:04d}", f"secret-{i:04d}-0123456789", name=f"acct{i}",
                      balance=Decimal(1_000_000))


def config(sim: Any, account: SimAccount) -> AccountConfig:
    return AccountConfig(account.name, account.key, Secret(account.secret), Environment.DEMO,
                         base_url=sim.base_url)


def spec(sim: Any, account: SimAccount, bot: str) -> AccountSpec:
    return AccountSpec(config(sim, account), (bot,))


def venue_clock(sim: Any) -> Callable[[], datetime]:
    return lambda: from_epoch_ms("sim.now", sim.now_ms)


async def trader(sim: Any, account: SimAccount) -> BybitClient:
    client = BybitClient(config(sim, account), policy=FAST)
    await client.rest.sync_clock()
    return client


async def market(client: BybitClient, bot: str, symbol: str, side: Side, qty: str) -> None:
    await client.trading.create_order(OrderRequest(
        bot_id=bot, symbol=symbol, side=side, qty=Decimal(qty),
        order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY),
        order_type=OrderType.MARKET,
    ))


def sim_exec_ids(sim: Any, account: str) -> set[str]:
    engine = sim.exchange.engine
    ids: set[str] = set()
    cursor = ""
    while True:
        page = engine.executions(account, limit=100, cursor=cursor)
        ids.update(e.fill.exec_id for e in page.items)
        cursor = page.next_cursor
        if not cursor:
            return ids
