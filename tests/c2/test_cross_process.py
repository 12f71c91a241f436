"""``/halt`` and ``/resume`` from Telegram reach a bot running in another process: a paper
``alphadesk bot shortseller`` (PostgreSQL through PgBouncer, Redis) applies the command itself,
persists its new state where every process sees it (``bot:{id}:status``, the audit row's
outcome) and keeps running; ``/status`` through Telegram then shows it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from alphadesk.adapters.telegram.bot import TelegramBot
from alphadesk.adapters.telegram.mutes import Mutes
from alphadesk.adapters.telegram.responder import DeskResponder
from alphadesk.app.control import open_control
from alphadesk.app.settings import Settings
from alphadesk.domain.secrets import Secret
from bot.support import BOT_ID, FILES, settings
from harness import waiting

from .conftest import TOKEN, Ledger
from .fake_bot_api import FakeBotApi

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ADMIN = 42


async def until(check: Callable[[], object], within_s: float = 60.0) -> None:
    """Re-check ``check`` (sync or async) until it holds; fails after ``within_s``."""
    await waiting.eventually(check, within_s)


@pytest.mark.parametrize("ledger", [pytest.param("postgres", marks=[pytest.mark.postgres])],
                         indirect=True)  # fmt: skip
async def test_halt_and_resume_from_telegram_reach_a_bot_in_another_process(
    ledger: Ledger, api: FakeBotApi, tmp_path: Path, market_csv: Callable[[str], Path]
) -> None:
    assert ledger.redis_url is not None
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET"))},
        "DATABASE_URL": ledger.url, "REDIS_URL": ledger.redis_url,
    }  # fmt: skip
    data = [arg for f in FILES for arg in ("--data", str(market_csv(f)))]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "bot", "shortseller", "--mode", "paper",
        *data, "--from", "2025-09-26T02:00", "--pace", "0.05", "--heartbeat", "0.5",
        "--namespace", ledger.namespace, "--state-dir", str(tmp_path / "state"),
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    config: Settings = replace(settings(ledger.url), redis_url=ledger.redis_url)
    bots = ledger.state.bots
    try:
        await until(lambda: bots.last_heartbeat(BOT_ID))
        async with open_control(config, namespace=ledger.namespace, state=ledger.state,
                                health_file=None) as control:  # fmt: skip
            bot = TelegramBot(Secret(TOKEN), api.url, [ADMIN], DeskResponder(control, Mutes()))
            stop = asyncio.Event()
            polling = asyncio.create_task(bot.run(stop, poll_timeout_s=1))

            async def ask(text: str) -> str:
                before = len(api.sent(chat_id=ADMIN))
                await api.command(ADMIN, text)
                return (await api.wait_sent(before + 1, chat_id=ADMIN))[before].text

            async def outcome(command: str) -> str:
                lines = [a for a in await control.audit_log(BOT_ID) if a.command == command]
                return lines[0].outcome if lines else ""

            try:
                reply = await ask("/halt shortseller")
                assert reply.startswith(f"halt sent to {BOT_ID} (running, applies it now)")
                await until(lambda: _startswith(outcome("halt"), "applied"))
                assert await outcome("halt") == "applied: reducing"
                assert await bots.get_status(BOT_ID) == "reducing"
                status = await ask("/status shortseller")
                assert f"{BOT_ID} paper REDUCING up" in " ".join(status.split())

                assert (await ask("/resume shortseller")).startswith(f"resume sent to {BOT_ID}")
                await until(lambda: _startswith(outcome("resume"), "applied"))
                assert await bots.get_status(BOT_ID) == "active"
                assert proc.returncode is None  # the bot kept running through both
            finally:
                stop.set()
                await polling
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        err = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code in (0, 130, -signal.SIGTERM), err[-3000:]
    assert "Traceback" not in err, err[-3000:]


async def _startswith(text: object, prefix: str) -> bool:
    value = await text if asyncio.iscoroutine(text) else text
    return isinstance(value, str) and value.startswith(prefix)
