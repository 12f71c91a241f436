"""One entrance for fills, across processes' roles: a live bot never writes fills (the listener
records them, once, and announces them once); a paper bot records its venue's fills through its
own recorder, so they reach ``events:fills`` and the live positions in Redis too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, Environment, Secret
from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.spool.fill_codec import decode_fill
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot, BotOptions
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from alphadesk.listener.service import Listener
from alphadesk.strategies import STRATEGIES

from .support import BOT_ID, paper_options, settings
from .test_bybit_sim import BOT_ID as PROBE_ID
from .test_bybit_sim import KEY, SECRET, Probe, until


async def announced(redis_url: str, prefix: str) -> list[Fill]:
    """Every fill on ``events:fills``, oldest first."""
    state = RedisState.from_url(redis_url, namespace=prefix)
    try:
        client: Redis = state.client
        entries = await client.xrange(state.keys.fills_stream)
        return [decode_fill(fields[b"data"]) for _, fields in entries]
    finally:
        await state.aclose()


async def ledger_fills(url: str, bot_id: str) -> list[Fill]:
    store = await open_store(url)
    try:
        return await store.read_fills(bot_id=bot_id)
    finally:
        await store.close()


async def test_a_paper_bot_announces_its_fills_and_keeps_redis_equal_to_the_ledger(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path, redis_url: str,
    redis_prefix: str,
) -> None:
    desk = replace(settings(db_url), redis_url=redis_url)
    options = paper_options(
        market_csv, tmp_path / "state", max_bars=1200, heartbeat_s=0.05,
        redis_namespace=redis_prefix,
    )  # fmt: skip
    run = await Bot(desk, options).run()

    recorded = await ledger_fills(db_url, BOT_ID)
    assert run.engine.fills, "the period must trade"
    assert sorted(f.exec_id for f in recorded) == sorted(f.exec_id for f in run.engine.fills)
    on_bus = await announced(redis_url, redis_prefix)
    assert sorted(f.exec_id for f in on_bus) == sorted(f.exec_id for f in recorded)
    assert len({f.exec_id for f in on_bus}) == len(on_bus)  # each once
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    store = await open_store(db_url)
    try:
        for symbol in sorted({f.symbol for f in recorded}):
            record = (await store.load_positions([(BOT_ID, symbol)]))[(BOT_ID, symbol)]
            live = await state.positions.get_position(BOT_ID, symbol)
            assert live is not None
            assert (live.size, live.avg_price, live.seq) == (
                abs(record.position.qty), record.position.avg_entry_price, record.fill_count
            )
            assert live.side == record.position.side
    finally:
        await store.close()
        await state.aclose()


@pytest.mark.postgres
async def test_a_live_bot_and_the_listener_on_one_account_record_each_fill_once(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path, redis_url: str,
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bot trades on the simulator; the listener, on the same key, is the only writer: every
    exec id the bot saw is in the ledger once and on the stream once."""
    monkeypatch.setitem(STRATEGIES, Probe.name, Probe)
    btc = market_csv("BTCUSDT_5m_bybit-perp-20250924-20251122")
    accounts = [simulator.SimAccount(KEY, SECRET, name="probe")]
    async with simulator.run_simulator([btc], accounts, history_bars=300) as sim:
        config = AccountConfig("probe", KEY, Secret(SECRET), Environment.DEMO,
                               base_url=sim.base_url)  # fmt: skip
        state = RedisState.from_url(redis_url, namespace=redis_prefix)
        store = await open_store(db_url)
        spool = DiskSpool(tmp_path / "spool")
        ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions)
        listener = Listener(ingest, [AccountSpec(config, (PROBE_ID,))],
                            health_file=tmp_path / "health.json", housekeeping_s=0.05)
        await listener.start()
        try:
            desk = Settings(
                database_url=db_url,
                bots=(BotSettings(PROBE_ID, Probe.name, "probe", Secret(KEY), Secret(SECRET)),),
            )
            options = BotOptions(name=PROBE_ID, mode="demo", state_dir=tmp_path / "state",
                                 base_url=sim.base_url, heartbeat_s=0.1)  # fmt: skip
            bot = Bot(desk, options)
            started = asyncio.Event()
            bot.on_started = lambda _run: started.set()
            task = asyncio.create_task(bot.run())
            await asyncio.wait_for(started.wait(), 20)
            run = bot.run_info
            assert run is not None
            for _ in range(40):
                if run.engine.fills:
                    break
                taken = run.driver.stats.bars
                sim.advance(1)
                await until(lambda: run.driver.stats.bars > taken or bool(run.engine.fills))  # noqa: B023
            await until(lambda: bool(run.engine.fills))
            seen = {f.exec_id for f in run.engine.fills}
            recorded: list[Fill] = []

            async def listener_has_them() -> bool:
                recorded[:] = await store.read_fills(bot_id=PROBE_ID)
                return seen <= {f.exec_id for f in recorded}

            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not await listener_has_them():
                assert loop.time() < deadline, "the listener did not record the bot's fills"
                await asyncio.sleep(0.05)
            bot.stop()
            await asyncio.wait_for(task, 20)
        finally:
            await listener.close()
            spool.close()
            await store.close()
            await state.aclose()

    ids = [f.exec_id for f in recorded]
    assert len(ids) == len(set(ids)) and set(ids) == {f.exec_id for f in run.engine.fills}
    on_bus = [f.exec_id for f in await announced(redis_url, redis_prefix)]
    assert sorted(on_bus) == sorted(ids)
    assert ingest.stats.duplicates == 0  # nobody else wrote them
