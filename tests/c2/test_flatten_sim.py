"""``/flatten BOT`` from Telegram closes the bot's position on the exchange, through the bot: a
demo bot trading the local Bybit simulator over real sockets holds a short; the admin asks, nothing
happens until the button is pressed; then the bot (not the facade) sends the closing order, the
simulator's account is flat, and the listener (the ledger's one writer for a demo account)
records the closing fill."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.telegram.bot import TelegramBot
from alphadesk.adapters.telegram.mutes import Mutes
from alphadesk.adapters.telegram.responder import DeskResponder
from alphadesk.app.bot import Bot, BotOptions
from alphadesk.app.control import open_control
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.enums import Side
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.listener.service import Listener
from alphadesk.strategies import STRATEGIES
from bot.test_bybit_sim import BOT_ID, KEY, SECRET, Probe, until
from listener.sim_support import venue_clock

from .conftest import TOKEN
from .fake_bot_api import FakeBotApi

ADMIN = 42
T = TypeVar("T")


async def test_flatten_closes_the_position_on_the_simulator_through_the_bot(
    market_csv: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    api: FakeBotApi,
) -> None:
    monkeypatch.setitem(STRATEGIES, Probe.name, Probe)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    btc = market_csv("BTCUSDT_5m_bybit-perp-20250924-20251122")
    accounts = [simulator.SimAccount(KEY, SECRET, name="probe")]
    state = MemoryState()  # the embedded mode: the facade and the bot share the bus
    async with simulator.run_simulator([btc], accounts, history_bars=300) as sim:
        settings = Settings(
            database_url=url,
            bots=(BotSettings(BOT_ID, Probe.name, "probe", Secret(KEY), Secret(SECRET)),),
        )
        options = BotOptions(name=BOT_ID, mode="demo", state_dir=tmp_path / "state",
                             base_url=sim.base_url, heartbeat_s=0.1)  # fmt: skip
        bot = Bot(settings, options, state=state)
        started = asyncio.Event()
        bot.on_started = lambda _run: started.set()
        task = asyncio.create_task(bot.run())
        await asyncio.wait_for(started.wait(), 20)
        run = bot.run_info
        assert run is not None
        for _ in range(40):  # one bar at a time until the probe holds its short
            if run.engine.fills:
                break
            taken = run.driver.stats.bars
            sim.advance(1)
            await until(lambda: run.driver.stats.bars > taken or bool(run.engine.fills))  # noqa: B023
        await until(lambda: bool(run.engine.fills))
        entry = run.engine.fills[0]
        assert entry.side is Side.SELL

        config = AccountConfig("probe", KEY, Secret(SECRET), Environment.DEMO,
                               base_url=sim.base_url)  # fmt: skip

        async def short_size() -> str:
            async with BybitClient(config) as client:
                await client.rest.sync_clock()
                held = {p.symbol: p for p in await client.trading.positions()}
            position = held.get("BTCUSDT")
            return "0" if position is None else format(position.size.normalize(), "f")

        assert await short_size() == format(entry.qty.normalize(), "f")
        store = await open_store(url)
        spool = DiskSpool(tmp_path / "spool")
        listener = Listener(Ingest(FillWriter(store), spool, bus=state.bus,
                                   positions=state.positions),
                            [AccountSpec(config, (BOT_ID,))], venue_clock=venue_clock(sim),
                            bus=state.bus)  # fmt: skip
        await listener.start()

        async def recorded() -> list[str]:
            return [f.exec_id for f in await store.read_fills(bot_id=BOT_ID)]

        await until_async(lambda: recorded(), lambda ids: ids == [entry.exec_id])
        async with open_control(settings, state=state, health_file=None) as control:
            telegram = TelegramBot(Secret(TOKEN), api.url, [ADMIN],
                                   DeskResponder(control, Mutes()))  # fmt: skip
            stop = asyncio.Event()
            polling = asyncio.create_task(telegram.run(stop, poll_timeout_s=1))
            try:
                await api.command(ADMIN, "/flatten probe_001")
                (ask,) = await api.wait_sent(1, chat_id=ADMIN)
                assert ask.text.startswith(f"Flatten {BOT_ID}?")
                await api.command(ADMIN, "/help")
                await api.wait_sent(2, chat_id=ADMIN)
                assert len(run.engine.fills) == 1  # asking alone did nothing
                assert await short_size() == format(entry.qty.normalize(), "f")

                data = ask.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                await api.press(ADMIN, data, 1)
                (edit,) = await api.wait_sent(1, "editMessageText")
                assert edit.text.startswith(f"flatten sent to {BOT_ID} (running, applies it now)")

                async def closed() -> bool:
                    if len(run.engine.fills) < 2:
                        sim.advance(1)  # a market order may wait for the next tick
                        return False
                    return await short_size() == "0"

                loop = asyncio.get_running_loop()
                deadline = loop.time() + 30
                while not await closed():
                    assert loop.time() < deadline, "the bot did not flatten within 30 s"
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await polling
            exit_fill = run.engine.fills[1]
            assert exit_fill.side is Side.BUY and exit_fill.qty == entry.qty
            lines = [a for a in await control.audit_log(BOT_ID) if a.command == "flatten"]
            assert len(lines) == 1 and lines[0].actor == "telegram:42 @owner"
            assert lines[0].outcome.startswith("applied")
        # the closing fill reached the ledger through the listener, not the bot or the facade
        await until_async(lambda: recorded(),
                          lambda ids: ids == [entry.exec_id, exit_fill.exec_id])  # fmt: skip
        await listener.close()
        spool.close()
        await store.close()
        bot.stop()
        await asyncio.wait_for(task, 20)


async def until_async(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool],
                      within_s: float = 30.0) -> T:  # fmt: skip
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not ok(value := await read()):
        assert loop.time() < deadline, f"not true within {within_s} s: {value!r}"
        await asyncio.sleep(0.05)
    return value
