"""Helpers shared by the bot tests: settings for one bot, the bundled candles, a backtest twin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from alphadesk.app.bot import Bot, BotOptions, BotRun
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.backtest.data import load
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.secrets import Secret
from alphadesk.strategies import build

FILES = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
BOT_ID = "shortseller_001"


def settings(url: str, bots: Sequence[BotSettings] = ()) -> Settings:
    default = BotSettings(BOT_ID, "shortseller", "shortseller", Secret(""), Secret(""))
    return Settings(database_url=url, bots=tuple(bots) or (default,))


def paper_options(
    market_csv: Callable[[str], Path], state_dir: Path, **kwargs: object
) -> BotOptions:
    data = tuple(market_csv(f) for f in FILES)
    base = BotOptions(name="shortseller", mode="paper", state_dir=state_dir, data=data)
    return replace(base, **kwargs)  # type: ignore[arg-type]


async def run_bot(url: str, options: BotOptions) -> BotRun:
    return await Bot(settings(url), options).run()


async def started_bot(bot: Bot) -> tuple[asyncio.Task[BotRun], BotRun]:
    """Start ``bot.run()`` and wait until it trades (warmed up, commands applied): its task and
    its run, which a test then steps; the task's result is the finished run. A run that ends
    before it starts fails here with its own error."""
    started = asyncio.Event()
    bot.on_started = lambda _run: started.set()
    task = asyncio.create_task(bot.run())
    waiter = asyncio.create_task(started.wait())
    try:
        await asyncio.wait({task, waiter}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not started.is_set():
        if task.done():
            task.result()
        raise AssertionError("the bot did not start within 20 s")
    assert bot.run_info is not None
    return task, bot.run_info


async def until_step(run: BotRun, steps: int, task: asyncio.Task[BotRun]) -> None:
    """Wait until the driver has lived more than ``steps`` closed-bar steps (or the bot ended,
    whose result then tells): the driver has no event per step, so its counter is polled."""
    async with asyncio.timeout(20):
        while run.driver.stats.steps <= steps and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def backtest(market_csv: Callable[[str], Path], steps: int) -> RunOutput:
    """The backtest over the same first ``steps`` timeline steps as a bounded paper run."""
    full = load([market_csv(f) for f in FILES])
    end = int(full.timeline[steps])
    data = load([market_csv(f) for f in FILES], end_ms=end)
    config = BacktestSettings(initial_equity=Decimal(10_000), bot_id=BOT_ID)
    return run(build("shortseller"), data, config)
