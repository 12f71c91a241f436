"""Demo mode against the local Bybit simulator over real sockets: warm-up from REST klines,
closed kline.5 bars from the public stream, an order tagged by ``domain.order_link``, the
trailing stop set through the position trading-stop call, the fill back on the private stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, Secret
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot, BotOptions
from alphadesk.app.commands.bot import bot_metrics
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain import order_link
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EnterIntent, NotionalSize, TrailingSpec
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies import specs as ind
from alphadesk.strategies.api import Row, Strategy, StrategyContext
from alphadesk.strategies.specs import IndicatorSpec

from .support import started_bot

KEY, SECRET = "PROBEKEY01", "probe-secret-0123456789"
BOT_ID = "probe_001"


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def until(condition: Callable[[], bool], within_s: float = 30.0) -> None:
    """Wait for ``condition``, polling; the bound is generous (a wait, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {within_s} s")
        await asyncio.sleep(0.01)


@dataclass(frozen=True, slots=True)
class ProbeParams:
    symbols: tuple[str, ...] = ("BTCUSDT",)


class Probe(Strategy[ProbeParams]):
    """Shorts once on its first decision, with an exchange trailing stop 1 % away."""

    name = "bot_probe"
    timeframe_min = 5
    params_type = ProbeParams
    warmup_bars = 30

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {"ema": ind.ema(20)}

    def on_bar(self, ctx: StrategyContext, bar: Bar, row: Row) -> None:
        if ctx.portfolio.position(bar.symbol) is None and row.ema == row.ema:
            price = to_decimal(bar.close)
            ctx.enter(
                bar.symbol,
                Side.SELL,
                NotionalSize(usdt=Decimal(200)),
                "probe",
                ref_price=price,
                trailing=TrailingSpec(distance=price / 100),
            )


async def test_demo_bot_on_the_simulator(
    market_csv: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STRATEGIES, Probe.name, Probe)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    btc = market_csv("BTCUSDT_5m_bybit-perp-20250924-20251122")
    accounts = [simulator.SimAccount(KEY, SECRET, name="probe")]
    async with simulator.run_simulator([btc], accounts, history_bars=300) as sim:
        settings = Settings(
            database_url=url,
            bots=(BotSettings(BOT_ID, Probe.name, "probe", Secret(KEY), Secret(SECRET)),),
        )
        options = BotOptions(
            name=BOT_ID,
            mode="demo",
            state_dir=tmp_path / "state",
            base_url=sim.base_url,
            heartbeat_s=0.1,
        )
        bot = Bot(settings, options)
        metrics = bot_metrics(bot)  # what `alphadesk bot --metrics-port` serves
        port = await metrics.serve()
        task, run = await started_bot(bot)
        assert run.driver.stats.warmed == Probe.warmup_bars
        assert run.driver.stats.steps == 0  # warm-up decides nothing
        def entered() -> bool:
            return bool(run.engine.fills) and run.driver.stats.protections_sent >= 1

        for _ in range(40):  # one bar at a time, each once the bot has taken the one before
            if entered():
                break
            taken = run.driver.stats.bars
            sim.advance(1)
            await until(lambda: run.driver.stats.bars > taken or entered())  # noqa: B023
        await until(entered)  # the entry's fill and its trailing stop follow the decision
        page = await scrape(port)
        await metrics.close()
        bot.stop()
        await asyncio.wait_for(task, 20)
        calls = {k: v for k, v in page.items() if k[0] == "alphadesk_rest_calls_total"}
        assert calls and all(dict(k[1])["account"] == BOT_ID for k in calls)
        assert any(dict(k[1])["endpoint"].endswith("order/create") for k in calls), calls
        assert page[("alphadesk_bot_open_positions", (("bot", BOT_ID),))] == 1
        assert page[("alphadesk_bot_trading_state", (("bot", BOT_ID), ("state", "ACTIVE")))] == 1
        assert ("alphadesk_fills_written_total", ()) not in page  # the listener writes them

        assert run.driver.stats.bars >= 1
        intent = run.engine.intents[0]
        assert isinstance(intent, EnterIntent) and intent.trailing is not None
        fill = run.engine.fills[0]
        decoded = order_link.decode(fill.order_link_id)
        assert (decoded.bot_id, decoded.purpose) == (BOT_ID, order_link.Purpose.ENTRY)
        assert fill.side is Side.SELL and fill.venue == "bybit"
        assert run.driver.stats.protections_sent >= 1 and not run.driver.stats.errors

        config = AccountConfig(
            "probe", KEY, Secret(SECRET), Environment.DEMO, base_url=sim.base_url
        )
        async with BybitClient(config) as client:
            await client.rest.sync_clock()
            positions = {p.symbol: p for p in await client.trading.positions()}
        held = positions["BTCUSDT"]
        assert held.side is Side.SELL and held.size == fill.qty  # stopping did not flatten
        assert held.trailing_stop > 0

    store = await open_store(url)
    bots = await open_bots(url)
    try:
        recorded = await store.read_fills(bot_id=BOT_ID)
        row = await bots.get(BOT_ID)
    finally:
        await store.close()
        await bots.close()
    # a live bot never writes fills: the listener records them (see test_one_writer.py)
    assert recorded == [] and run.engine.fills
    assert row is not None and (row.status, row.deployment_mode) == ("stopped", "demo")
