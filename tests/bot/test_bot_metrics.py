"""A paper bot's ``/metrics`` page (what ``alphadesk bot --metrics-port`` serves), scraped over
HTTP while the bot trades replayed candles: fills written move with the run, and at the end the
page's equity, PnL, open positions and kill-switch state are the bot's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from alphadesk.adapters.storage import migrate
from alphadesk.app.bot import Bot
from alphadesk.app.commands.bot import bot_metrics

from .support import BOT_ID, paper_options, settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=10),
    ) as response:
        assert response.status == 200
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_a_paper_bots_page_follows_its_fills_equity_and_state(
    market_csv: Callable[[str], Path], tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    options = paper_options(market_csv, tmp_path / "state", max_bars=1500, pace_s=0.0005)
    bot = Bot(settings(url), options)
    metrics = bot_metrics(bot)
    port = await metrics.serve("127.0.0.1", 0)
    try:
        first = await scrape(port)
        assert ("alphadesk_bot_equity_usdt", (("bot", BOT_ID),)) not in first  # not started
        task = asyncio.create_task(bot.run())
        written: list[float] = []
        while not task.done():
            page = await scrape(port)
            written.append(page[("alphadesk_fills_written_total", ())])
            await asyncio.sleep(0.05)
        run = await task
        last = await scrape(port)
    finally:
        await metrics.close()
    fills = len(run.engine.fills)
    assert fills > 0, "the period must trade"
    assert written == sorted(written) and len(set(written)) >= 2, written  # it moved
    assert last[("alphadesk_fills_written_total", ())] == fills
    book = run.engine.portfolio
    assert last[("alphadesk_bot_equity_usdt", (("bot", BOT_ID),))] == float(book.equity)
    assert last[("alphadesk_bot_pnl_usdt", (("bot", BOT_ID), ("kind", "realized")))] == float(
        book.realized)
    assert last[("alphadesk_bot_open_positions", (("bot", BOT_ID),))] == len(book.positions)
    states = {dict(k[1])["state"]: v for k, v in last.items()
              if k[0] == "alphadesk_bot_trading_state"}
    assert states == {"ACTIVE": 1.0, "REDUCING": 0.0, "HALTED": 0.0}
    assert last[("alphadesk_spool_depth", ())] == 0
