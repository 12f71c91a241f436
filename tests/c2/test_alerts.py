"""Alerts reach the admins when a fill is written: the real FillRecorder (SQLite ledger) announces
on the bus (in-process, and Redis), the AlertPump batches, the real PTB bot sends to a local
fake Bot API over HTTP. A flood of 500 fills in a second costs a bounded number of messages."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.adapters.telegram.batching import Batcher
from alphadesk.adapters.telegram.bot import TelegramBot
from alphadesk.adapters.telegram.commands import Request
from alphadesk.adapters.telegram.mutes import Mutes
from alphadesk.adapters.telegram.pump import AlertPump
from alphadesk.adapters.telegram.reply import Reply
from alphadesk.domain.alerts import Alert
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.secrets import Secret
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from harness import keyspace

from .fake_bot_api import FakeBotApi

TOKEN = "123456:AAH-alerts-test-token-0123456789"
ADMINS = (42, 43)
INTERVAL_S = 1.0


class NoCommands:
    """These tests send no command; the responder is never asked."""

    async def answer(self, request: Request, actor: str) -> Reply:
        raise AssertionError(request)

    async def resolve(self, bot: str) -> str:
        raise AssertionError(bot)

    async def flatten(self, bot: str, actor: str) -> Reply:
        raise AssertionError(bot)


@dataclass
class Desk:
    api: FakeBotApi
    recorder: FillRecorder
    state: MemoryState | RedisState
    pump: AlertPump
    mutes: Mutes


def fill(n: int, bot: str = "lxalgo_001", *, at: datetime | None = None,
         exec_type: ExecType = ExecType.TRADE) -> Fill:  # fmt: skip
    return Fill(venue="bybit", account=bot.split("_")[0], exec_id=f"e-{bot}-{n}", bot_id=bot,
                symbol="BTCUSDT", side=Side.BUY if n % 2 else Side.SELL,
                price=Decimal("95000.5"), qty=Decimal("0.001"), fee=Decimal("0.05"),
                exec_time=at or datetime.now(UTC), exec_type=exec_type)  # fmt: skip


@pytest.fixture(params=["memory", "redis"])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with contextlib.AsyncExitStack() as stack:
        state: MemoryState | RedisState = MemoryState()
        if request.param == "redis":
            url: str = request.getfixturevalue("redis_url")
            prefix = await stack.enter_async_context(keyspace.isolated_prefix(url))
            state = RedisState.from_url(url, namespace=prefix)
        async for built in _desk(state, tmp_path):
            yield built


async def _desk(state: MemoryState | RedisState, tmp_path: Path) -> AsyncIterator[Desk]:
    path = tmp_path / "ledger.db"
    await asyncio.to_thread(migrate.upgrade, f"sqlite:///{path}")
    store = await SqliteLedger.connect(path)
    api = FakeBotApi(TOKEN)
    await api.start()
    mutes = Mutes()
    bot = TelegramBot(Secret(TOKEN), api.url, ADMINS, NoCommands())
    pump = AlertPump(state.bus, Batcher(time.monotonic, min_interval_s=INTERVAL_S, linger_s=0.2),
                     bot.send_to_admins, mutes, now=lambda: datetime.now(UTC))  # fmt: skip
    await bot.application.initialize()
    task = asyncio.create_task(pump.run())
    try:
        yield Desk(api, FillRecorder(FillWriter(store), bus=state.bus), state, pump, mutes)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await bot.application.shutdown()
        await api.close()
        await store.close()
        await state.aclose()


async def test_a_written_fill_reaches_every_admin(desk: Desk) -> None:
    await desk.recorder.record([fill(1)])
    for admin in ADMINS:
        (call,) = await desk.api.wait_sent(1, chat_id=admin)
        assert call.text == "lxalgo_001: BUY 0.001 BTCUSDT @ 95000.5 fee 0.05"


async def test_alerts_and_forced_fills_are_never_muted(desk: Desk) -> None:
    desk.mutes.mute(None)
    await desk.recorder.record([fill(2), fill(3, exec_type=ExecType.ADL_TRADE)])
    await desk.state.bus.alert(Alert(
        kind="reconcile_mismatch", venue="bybit", account="lxalgo", symbol="ETHUSDT",
        message="ledger long 0.1, venue flat", at=datetime.now(UTC)))  # fmt: skip

    def text() -> str:
        return "\n".join(c.text for c in desk.api.sent(chat_id=42))

    await desk.api.wait_for(lambda _: "mismatch" in text() and "AdlTrade" in text())
    assert "⚠ lxalgo_001: BUY 0.001 BTCUSDT @ 95000.5 fee 0.05 [AdlTrade]" in text()
    assert "⚠ RECONCILE mismatch lxalgo/ETHUSDT: ledger long 0.1, venue flat" in text()
    assert "SELL" not in text()  # the muted ordinary fill


async def test_old_events_do_not_flood_a_new_bot(desk: Desk) -> None:
    """A backfill of last month's fills is acked without a message; a new fill still shows."""
    old = datetime.now(UTC) - timedelta(days=30)
    await desk.recorder.record([fill(10 + i, at=old + timedelta(minutes=i)) for i in range(50)])
    await desk.recorder.record([fill(99)])
    (call,) = await desk.api.wait_sent(1, chat_id=42)
    assert "BUY 0.001" in call.text and call.text.count("\n") == 0
    assert desk.pump.skipped == 50


async def test_500_fills_in_a_second_cost_a_bounded_number_of_messages(desk: Desk) -> None:
    started = time.monotonic()
    bots = ("lxalgo_001", "momentum_001")
    for batch in range(10):
        await desk.recorder.record([fill(batch * 50 + i, bots[i % 2]) for i in range(50)])
    recorded = time.monotonic() - started

    def accounted() -> int:
        total = 0
        for call in desk.api.sent(chat_id=42):
            for line in call.text.splitlines():
                total += int(line.split()[2]) if line.startswith("…") else 1
        return total

    await desk.api.wait_for(lambda _: accounted() >= 500)
    elapsed = time.monotonic() - started
    messages = desk.api.sent(chat_id=42)
    assert accounted() == 500
    # one message per interval at most (plus the first): whatever the machine's speed
    assert len(messages) <= elapsed / INTERVAL_S + 1
    assert len(messages) <= 6, (len(messages), recorded, elapsed)
    assert all(len(m.text) <= 4096 for m in messages)
