"""A first soak: three accounts, over a thousand executions, sockets dropped at random, pushes
duplicated and reordered; the ledger and the live positions must end equal to the venue's.

Runs on PostgreSQL through PgBouncer and the real Redis, the production shape.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from listener_support import Ledger, State
from sim_support import (
    BTC_5M,
    ETH_5M,
    FAST_WS,
    eventually,
    market,
    sim_account,
    sim_exec_ids,
    spec,
    trader,
    venue_clock,
)

from alphadesk.adapters.spool import DiskSpool
from alphadesk.domain import order_link
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.ingest import Ingest
from alphadesk.listener.service import Listener
from alphadesk.simulator import run_simulator

ACCOUNTS = 3
ORDERS_PER_ACCOUNT = 380
#: Orders per account sent through the signed REST API (the simulator allows 10 a second per
#: key); the rest are handed to the simulator's exchange in-process, exactly as its REST route
#: does, so the soak fits its time budget. Either way the fills reach us over the private socket.
REST_ORDERS = 20
QTY = {"BTCUSDT": ("0.001", 5), "ETHUSDT": ("0.01", 5)}


async def _trade(sim: Any, index: int, rng: random.Random) -> None:
    account = sim_account(index)
    client = await trader(sim, account)
    bot = f"bot{index}"
    exchange = sim.exchange
    try:
        for n in range(ORDERS_PER_ACCOUNT):
            symbol = rng.choice(sorted(QTY))
            step, most = QTY[symbol]
            qty = Decimal(step) * rng.randint(1, most)
            side = rng.choice((Side.BUY, Side.SELL))
            if n < REST_ORDERS:
                await market(client, bot, symbol, side, str(qty))
            else:
                request = OrderRequest(
                    bot_id=bot, symbol=symbol, side=side, qty=qty, order_type=OrderType.MARKET,
                    order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY),
                )
                outcome = exchange.engine.place(account.name, request, exchange.now_ms)
                exchange.publish_events(outcome.events)
                await asyncio.sleep(0.003)
            if n % 50 == 49:
                sim.advance(bars=1)
    finally:
        await client.close()


async def _chaos(sim: Any, rng: random.Random, stop: asyncio.Event) -> int:
    injected = 0
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        fault = rng.choice(("drop", "duplicate", "reorder"))
        if fault == "drop":
            sim.faults.drop_ws_after(rng.randint(1, 20), channel="private")
        elif fault == "duplicate":
            sim.faults.duplicate_execution(rng.randint(1, 10))
        else:
            sim.faults.reorder_ws(rng.randint(1, 10), channel="private")
        injected += 1
    return injected


@pytest.mark.slow
@pytest.mark.parametrize("ledger", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_soak_three_accounts_with_faults(
    market_csv: Callable[[str], Path], ledger: Ledger, state: State, tmp_path: Path
) -> None:
    rng = random.Random(20251125)
    accounts = [sim_account(i) for i in range(1, ACCOUNTS + 1)]
    data = [market_csv(BTC_5M), market_csv(ETH_5M)]
    async with run_simulator(data, accounts, history_bars=300) as sim:
        ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"), bus=state.bus,
                        positions=state.positions, markets=state.markets)
        specs = [spec(sim, a, f"bot{i}") for i, a in enumerate(accounts, 1)]
        listener = Listener(ingest, specs, venue_clock=venue_clock(sim), ws_settings=FAST_WS,
                            housekeeping_s=0.2)
        await listener.start()
        stop = asyncio.Event()
        chaos = asyncio.create_task(_chaos(sim, rng, stop))
        try:
            await asyncio.gather(*(_trade(sim, i, random.Random(i)) for i in range(1, 4)))
            stop.set()
            injected = await chaos
            sim.faults.clear()
            expected = set().union(*(sim_exec_ids(sim, a.name) for a in accounts))
            assert len(expected) >= 1000

            seen: dict[str, Any] = {}

            async def complete() -> bool:  # the reconnects' own gap-fills close the gaps
                seen["ready"] = [feed.session.ready for feed in listener.feeds]
                ids = set(await _all_ids(ledger))
                seen["missing"], seen["extra"] = sorted(expected - ids), sorted(ids - expected)
                return all(seen["ready"]) and ids == expected

            await eventually(complete, within_s=30, what=lambda: f"ledger = venue: {seen}")
            ids = await _all_ids(ledger)
            assert len(ids) == len(set(ids)) == len(expected)
            for i, account in enumerate(accounts, 1):
                for symbol in QTY:
                    venue = sim.exchange.engine.position(account.name, symbol)
                    ours = await state.positions.get_position(f"bot{i}", symbol)
                    assert ours is not None, (account.name, symbol)
                    assert (ours.size, ours.side) == (venue.size, venue.side), (account, symbol)
            reconnects = sum(f.session.reconnects for f in listener.feeds)
            print(f"soak: {len(expected)} executions, {injected} faults, {reconnects} "
                  f"reconnects, {ingest.stats.duplicates} duplicates dropped, "
                  f"{sum(f.gapfill.runs for f in listener.feeds)} gap-fills")
            assert injected > 0 and reconnects > 0
            assert ingest.stats.duplicates > 0
        finally:
            stop.set()
            await listener.close()


async def _all_ids(ledger: Ledger) -> list[str]:
    return await ledger.exec_ids("fills") + await ledger.exec_ids("funding")
