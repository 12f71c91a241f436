"""The demo's bots: started one at a time, kept in lockstep with the replayed markets, stopped.

Each is a real :class:`alphadesk.app.bot.Bot` in Bybit ``demo`` mode. After every step of the
markets the fleet waits until each bot has decided on the bars that closed and its market orders
are answered, so a replay is as fast as the machine and the same on a slow one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from functools import partial

from alphadesk.app.bot import Bot, BotOptions, BotRun
from alphadesk.app.demo.market import DemoMarkets
from alphadesk.app.demo.roster import DEMO_BOTS, INITIAL_BALANCE, DemoBot, DemoConfig
from alphadesk.app.settings import Settings
from alphadesk.domain.enums import OrderType
from alphadesk.engine.ports import LedgerStore

log = logging.getLogger("alphadesk.demo")

STEP_TIMEOUT_S = 10.0
SETTLE_TIMEOUT_S = 30.0


def _quiet(run: BotRun, due_ms: int) -> bool:
    """The bot decided on every bar closed up to ``due_ms`` and its market orders are answered
    (their fills came back); a resting limit or a stop may wait."""
    driver = run.driver
    if driver.stats.last_close_ms < due_ms:
        return False
    gateway = driver.gateway
    if gateway.orders or gateway.protection:
        return False
    return not any(
        f.request.order_type is OrderType.MARKET for f in run.engine.router.inflight.values()
    )


def _settled(run: BotRun, due_ms: int, task: asyncio.Task[BotRun]) -> bool:
    return task.done() or _quiet(run, due_ms)


async def _until(check: Callable[[], bool], within_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    spins = 0
    while not check():
        if loop.time() > deadline:
            return False
        spins += 1
        await asyncio.sleep(0 if spins < 20 else 0.0005)
    return True


class DemoFleet:
    def __init__(self, settings: Settings, config: DemoConfig) -> None:
        self.settings = settings
        self.config = config
        self.bots: list[tuple[DemoBot, Bot, asyncio.Task[BotRun]]] = []
        """The bots started so far, in :data:`DEMO_BOTS` order, with their running tasks."""

    async def start(self, markets: DemoMarkets, show: Callable[[str], None]) -> None:
        """One at a time: each registers, migrates a SQLite ledger and warms up from REST."""
        for b in DEMO_BOTS:
            show(f"starting {b.bot_id} ({b.strategy}, {b.market} market)")
            options = BotOptions(
                name=b.bot_id, mode="demo", state_dir=self.config.work_dir / "state",
                base_url=markets.sims[b.market].base_url, heartbeat_s=self.config.heartbeat_s,
                redis_namespace=self.config.namespace, ccxt_pacing=False,
                initial_capital=INITIAL_BALANCE,
            )  # fmt: skip
            bot = Bot(self.settings, options)
            started = asyncio.Event()
            bot.on_started = lambda _run, ev=started: ev.set()
            task = asyncio.create_task(bot.run(), name=f"demo-{b.bot_id}")
            self.bots.append((b, bot, task))
            waiter = asyncio.create_task(started.wait())
            done, _ = await asyncio.wait({task, waiter}, timeout=60,
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                waiter.cancel()
                if task in done:
                    task.result()  # raises the bot's own error
                raise RuntimeError(f"{b.bot_id} did not start within 60 s")

    async def replay(self, markets: DemoMarkets, show: Callable[[str], None]) -> int:
        """Step the clock to the end; returns the steps some bot did not finish in time."""
        late = 0
        shown = 0.0
        symbols = {b.bot_id: sorted(bot.strategy().symbols) for b, bot, _ in self.bots}
        while not markets.done:
            markets.step()
            for b, bot, task in self.bots:
                run = bot.run_info
                assert run is not None
                due = markets.last_close_ms(b.market, symbols[b.bot_id])
                if due <= markets.start_ms:
                    continue
                if not await _until(partial(_settled, run, due, task), STEP_TIMEOUT_S):
                    late += 1
                    log.warning("%s: step to %s not settled within %.0f s; replay goes on",
                                b.bot_id, markets.now(), STEP_TIMEOUT_S)
                if task.done():
                    task.result()  # a bot that died stops the demo with its error
                    raise RuntimeError(f"{b.bot_id} stopped during the replay")
            now = time.monotonic()
            if now - shown >= 0.1:
                shown = now
                show("replaying")
        show("replayed")
        return late

    async def settle(self, store: LedgerStore) -> None:
        """Wait until the ledger holds every execution each bot saw on its private stream."""
        seen = {b.bot_id: {f.exec_id for f in bot.run_info.engine.fills}
                for b, bot, _ in self.bots if bot.run_info is not None}  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        for bot_id, ids in seen.items():
            while True:
                stored = {f.exec_id for f in await store.read_fills(bot_id=bot_id)}
                if ids <= stored:
                    break
                if loop.time() > deadline:
                    raise RuntimeError(f"{bot_id}: {len(ids - stored)} fills the bot saw are "
                                       f"not in the ledger after {SETTLE_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.05)

    async def stop(self) -> list[BotRun]:
        for _, bot, _ in self.bots:
            bot.stop()
        runs = []
        for _, _, task in self.bots:
            runs.append(await asyncio.wait_for(task, 30))
        return runs

    async def cancel(self) -> None:
        for _, bot, task in self.bots:
            if not task.done():
                bot.stop()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
