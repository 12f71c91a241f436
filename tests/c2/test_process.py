"""``alphadesk telegram`` as a real process: settings from the environment, the ledger in
PostgreSQL through PgBouncer, live state and the bus in Redis, Telegram a local fake Bot API over
HTTP. Commands are answered from the ledger, a stranger gets nothing, ``/flatten`` publishes only
on its button, a fill written by another process's recorder arrives as an alert, SIGTERM stops it
cleanly, and the token never shows in what it printed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.adapters.storage.stores import open_store
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.engine.control_commands import COMMAND_GROUP
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from control.control_support import SS, seed

from .conftest import TOKEN, Ledger
from .fake_bot_api import FakeBotApi

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ADMIN, STRANGER = 42, 99


@pytest.mark.parametrize("ledger", [pytest.param("postgres", marks=[pytest.mark.postgres])],
                         indirect=True)  # fmt: skip
async def test_the_telegram_process_end_to_end(
    ledger: Ledger, api: FakeBotApi, tmp_path: Path
) -> None:
    assert ledger.redis_url is not None
    await seed(ledger.url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET"))},
        "DATABASE_URL": ledger.url, "REDIS_URL": ledger.redis_url,
        "C2_TELEGRAM_BOT_TOKEN": TOKEN, "C2_TELEGRAM_ADMIN_IDS": f"{ADMIN}, 7",
        "C2_TELEGRAM_API_URL": api.url, "LOG_LEVEL": "INFO",
    }  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "telegram", "--namespace", ledger.namespace,
        "--poll-timeout", "1", "--alert-interval", "0.5",
        "--health-file", str(tmp_path / "no-listener.json"),
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip

    async def ask(text: str, user: int = ADMIN) -> str:
        before = len(api.sent(chat_id=ADMIN))
        await api.command(user, text)
        return (await api.wait_sent(before + 1, chat_id=ADMIN))[before].text

    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.decode().strip() == "telegram: answering 2 admin(s)"

        analytics = await ask("/analytics")
        assert "Total fills: 7" in analytics and "Volume: 855.00 USDT" in analytics
        assert "Net PnL: +19.70 USDT" in analytics
        trades = await ask("/trades 1")
        assert "Last 1 round trips (desk), net -10.10 USDT" in trades and "ETHUSDT" in trades
        assert "15,024.50" in await ask("/balance")

        await api.command(STRANGER, "/balance")
        assert (await ask("/trades 1 2 3")) == "too many arguments. Usage: /trades [N] [BOT]"
        assert api.sent(chat_id=STRANGER) == []

        stream = ledger.state.bus.commands(SS)
        confirm = await ask("/flatten shortseller")
        assert confirm.startswith(f"Flatten {SS}?")
        assert await stream.length() == 0
        button = api.sent(chat_id=ADMIN)[-1].params["reply_markup"]["inline_keyboard"][0][0]
        await api.press(ADMIN, button["callback_data"], 1)
        (edit,) = await api.wait_sent(1, "editMessageText")
        assert edit.text.startswith(f"flatten sent to {SS}")
        (delivery,) = await stream.read(COMMAND_GROUP, SS)
        assert (delivery.event.kind.value, delivery.event.actor) == ("flatten",
                                                                     "telegram:42 @owner")

        # another process (a listener, a paper bot) records a fill: the admins hear of it
        store = await open_store(ledger.url)
        try:
            fill = Fill(venue="bybit", account="shortseller", exec_id="tg-alert-1", bot_id=SS,
                        symbol="BTCUSDT", side=Side.BUY, price=Decimal("101.5"),
                        qty=Decimal("0.5"), fee=Decimal("0.03"),
                        exec_time=datetime.now(UTC))  # fmt: skip
            await FillRecorder(FillWriter(store), bus=ledger.state.bus).record([fill])
        finally:
            await store.close()
        await api.wait_for(lambda _: any("BUY 0.5 BTCUSDT @ 101.5" in c.text
                                         for c in api.sent(chat_id=ADMIN)))  # fmt: skip
        await api.wait_for(lambda _: any("BUY 0.5 BTCUSDT @ 101.5" in c.text
                                         for c in api.sent(chat_id=7)))  # fmt: skip
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        err = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code == 0, err[-3000:]
    assert TOKEN not in err and TOKEN.split(":")[1] not in err
    assert "refused user_id=99" in err
    assert "Traceback" not in err
