"""Every command through the real PTB bot, the real control facade and a real ledger (SQLite, and
PostgreSQL through PgBouncer with Redis), over HTTP to a local fake Bot API. The ledger is the
control tests' seeded desk; each figure expected below is worked out by hand from its fills:

- shortseller_001: a BTC short 1 @ 100 -> 90 (gross 10, fees 0.2, net 9.8) closed Nov 7; an ETH
  long 2 @ 50 -> 45 (gross -10, fees 0.1, net -10.1) closed Nov 8; a BTC short 0.5 @ 110 open;
  equity 10,004.50 from its newest venue snapshot.
- lxalgo_001 (stopped, paper): a SOL long 10 @ 20 -> 22 (net 20) closed Nov 8; equity 5,020.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from PIL import Image

from alphadesk.adapters.telegram.bot import TelegramBot
from alphadesk.adapters.telegram.mutes import Mutes
from alphadesk.adapters.telegram.responder import DeskResponder
from alphadesk.domain.secrets import Secret
from alphadesk.engine.control import Control
from alphadesk.engine.control_commands import COMMAND_GROUP
from control.control_support import LX, SS, control_over, seed

from .conftest import TOKEN, Ledger
from .fake_bot_api import PNG_SIGNATURE, Call, FakeBotApi

ADMIN, STRANGER = 42, 99


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Chat:
    api: FakeBotApi
    control: Control
    ledger: Ledger
    clock: Clock

    async def ask(self, text: str, user: int = ADMIN) -> Call:
        """Send ``text`` as ``user``; the bot's next message to the admin."""
        before = len(self.api.sent(chat_id=ADMIN))
        await self.api.command(user, text)
        return (await self.api.wait_sent(before + 1, chat_id=ADMIN))[before]


@pytest_asyncio.fixture
async def chat(ledger: Ledger, api: FakeBotApi) -> AsyncIterator[Chat]:
    await seed(ledger.url)
    clock = Clock()
    async with control_over(ledger.url, ledger.state) as control:
        bot = TelegramBot(Secret(TOKEN), api.url, [ADMIN], DeskResponder(control, Mutes()),
                          clock=clock)  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(bot.run(stop, poll_timeout_s=1))
        try:
            await api.wait_for(lambda calls: any(c.method == "getMe" for c in calls))
            yield Chat(api, control, ledger, clock)
        finally:
            stop.set()
            await task
    texts = "\n".join(c.text for c in api.calls)
    assert TOKEN not in texts and "Traceback" not in texts
    if ledger.redis_url:
        assert ledger.redis_url not in texts


def pre(call: Call) -> list[str]:
    """The table lines of a reply (inside <pre>), split into cells."""
    body = call.text.split("<pre>", 1)[1].split("</pre>", 1)[0]
    return [line.split() for line in body.splitlines()]


async def test_analytics_balance_trades_and_tables_show_the_ledgers_figures(chat: Chat) -> None:
    analytics = (await chat.ask("/analytics")).text
    for line in ("Total fills: 7", "Volume: 855.00 USDT", "Round trips: 3 (2 won, 1 lost)",
                 "Win rate: 66.7%", "Net PnL: +19.70 USDT, fees 0.36"):  # fmt: skip
        assert line in analytics
    rows = pre(await chat.ask("/analytics shortseller"))
    assert ["shortseller", SS, "5", "435.00", "2", "-0.30"] in rows

    balance = pre(await chat.ask("/balance"))
    assert balance[1][:2] == [LX, "5,020.00"] or balance[2][:2] == [LX, "5,020.00"]
    assert [r[:2] for r in balance if r[0] == SS] == [[SS, "10,004.50"]]
    assert balance[-1][:2] == ["total", "15,024.50"]

    trades = await chat.ask("/trades 2")
    assert "Last 2 round trips (desk), net +9.90 USDT" in trades.text
    newest, older = pre(trades)[1:3]
    assert (newest[2], newest[3], newest[4], newest[8]) == (SS, "ETHUSDT", "long", "-10.10")
    assert (older[2], older[3], older[8]) == (LX, "SOLUSDT", "+20.00")

    daily = pre(await chat.ask("/daily"))
    by_day = {r[0]: r for r in daily[1:]}
    assert by_day["2025-11-07"][1:3] == ["1", "1/0"] and by_day["2025-11-07"][-1] == "+9.80"
    assert by_day["2025-11-08"][1:3] == ["2", "1/1"] and by_day["2025-11-08"][-1] == "+9.90"
    assert by_day["total"][1] == "3" and by_day["total"][-1] == "+19.70"
    monthly = pre(await chat.ask("/monthly lxalgo"))
    assert next(r for r in monthly if r[0] == "2025-11")[-1] == "+20.00"
    weekly = await chat.ask("/weekly shortseller_001")
    assert "Weekly PnL (shortseller_001)" in weekly.text
    assert pre(weekly)[-1][-1] == "-0.30"


async def test_status_positions_performance_health_reconcile(chat: Chat) -> None:
    status = await chat.ask("/status")
    cells = {r[0]: r for r in pre(status)}
    assert cells[SS][1:4] == ["demo", "ACTIVE", "up"] and cells[SS][5] == "1"
    assert cells[LX][3] == "down"
    assert cells["total"][1:4] == ["1/2", "1", "15,024.50"]

    positions = pre(await chat.ask("/positions"))
    (btc,) = [r for r in positions if r[0] == SS]
    assert btc[1:5] == ["BTCUSDT", "short", "0.5", "110"]
    assert "No open positions (lxalgo)" in (await chat.ask("/positions lxalgo")).text

    photos = len(chat.api.sent("sendPhoto", ADMIN))
    performance = await chat.ask("/performance shortseller")
    assert "Performance (shortseller_001)" in performance.text
    metrics = {r[0]: r for r in pre(performance)}
    assert metrics["equity"][1:] == ["10,000.00", "-&gt;", "10,004.50"]  # its venue snapshots
    assert metrics["net"][2] == "+4.50"
    assert metrics["round"][2:4] == ["2", "(1"]
    assert metrics["best"][3:] == ["+9.80", "/", "-10.10"]
    (photo,) = (await chat.api.wait_sent(photos + 1, "sendPhoto", ADMIN))[photos:]
    assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(photo.photo)).size == (800, 400)

    health = await chat.ask("/health")
    assert health.text.startswith(("Healthy at", "PROBLEMS at"))
    reconcile = await chat.ask("/reconcile")
    assert "Reconcile (desk): not available" in reconcile.text


async def test_a_stranger_gets_nothing_and_is_audited(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "alphadesk.audit")
    await chat.api.command(STRANGER, "/balance", username="mallory")
    await chat.api.command(STRANGER, "/halt")
    # the admin's next command is answered: the stranger's two were handled (and dropped) before
    await chat.ask("/help")
    assert chat.api.sent(chat_id=STRANGER) == []
    assert [c for c in chat.api.calls if c.chat_id == STRANGER] == []
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == ["telegram: refused user_id=99 username=mallory update=/balance",
                       "telegram: refused user_id=99 username=owner update=/halt"]  # fmt: skip
    # an admin in a group chat is not answered there either: the group would read the figures
    await chat.api.command(ADMIN, "/balance", group=-100123)
    await chat.ask("/help")
    assert [c for c in chat.api.calls if c.chat_id == -100123] == []
    assert any("update=/balance chat=group" in r.getMessage() for r in caplog.records)
    assert await chat.control.audit_log() == []  # nothing reached the facade
    assert await chat.ledger.state.bus.commands(LX).length() == 0


async def test_malformed_commands_get_a_short_usage(chat: Chat) -> None:
    assert (await chat.ask("/trades 0")).text == "N must be 1 to 50. Usage: /trades [N] [BOT]"
    assert (await chat.ask("/flatten")).text == "which bot?. Usage: /flatten BOT"
    assert (await chat.ask("/positions a b")).text.endswith("Usage: /positions [BOT]")
    assert (await chat.ask("/status ghost")).text == (
        "is not a known bot (known: lxalgo_001, shortseller_001)")
    assert (await chat.ask("/frobnicate")).text == "unknown command /frobnicate; /help lists them"
    assert "/flatten BOT" in (await chat.ask("/help")).text


async def test_halt_and_resume_are_published_and_audited_with_who(chat: Chat) -> None:
    reply = await chat.ask("/halt lxalgo")
    assert reply.text.startswith(f"halt sent to {LX} (not running: applies it on start)")
    (delivery,) = await chat.ledger.state.bus.commands(LX).read(COMMAND_GROUP, LX)
    assert delivery.event.actor == "telegram:42 @owner"
    everyone = await chat.ask("/resume")
    assert f"resume sent to {LX}" in everyone.text and f"resume sent to {SS}" in everyone.text
    audit = [(a.bot_id, a.command, a.actor, a.outcome) for a in await chat.control.audit_log()]
    assert sorted(audit) == sorted([
        (LX, "halt", "telegram:42 @owner", "published"),
        (LX, "resume", "telegram:42 @owner", "published"),
        (SS, "resume", "telegram:42 @owner", "published"),
    ])  # fmt: skip


async def test_flatten_needs_its_button_which_expires(chat: Chat) -> None:
    stream = chat.ledger.state.bus.commands(SS)
    ask = await chat.ask("/flatten shortseller")
    assert ask.text.startswith(f"Flatten {SS}? The bot closes all its positions")
    buttons = ask.params["reply_markup"]["inline_keyboard"][0]
    confirm, cancel = (b["callback_data"] for b in buttons)
    assert confirm.startswith("flatten:") and cancel.startswith("cancel:")
    # asking is not doing: nothing published, nothing audited
    await chat.ask("/help")
    assert await stream.length() == 0 and await chat.control.audit_log() == []

    # a stranger's press, and a forged token, do nothing either
    await chat.api.press(STRANGER, confirm, 1)
    await chat.api.press(ADMIN, "flatten:forged", 1)
    await chat.api.wait_for(lambda calls: sum(c.method == "answerCallbackQuery"
                                              for c in calls) >= 1)  # fmt: skip
    assert await stream.length() == 0

    await chat.api.press(ADMIN, confirm, 1)
    edits = await chat.api.wait_sent(1, "editMessageText")
    assert edits[0].text.startswith(f"flatten sent to {SS} (running, applies it now)")
    assert await stream.length() == 1
    (line,) = await chat.control.audit_log()
    assert (line.bot_id, line.command, line.actor) == (SS, "flatten", "telegram:42 @owner")

    # a second request whose button is pressed after it expired does nothing
    again = await chat.ask("/flatten shortseller_001")
    token = again.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    chat.clock.now += 61
    await chat.api.press(ADMIN, token, 2)
    edits = await chat.api.wait_sent(2, "editMessageText")
    assert edits[1].text == "Flatten: the button expired; nothing was done."
    assert await stream.length() == 1
    answers = [c.params.get("text") for c in chat.api.sent("answerCallbackQuery")]
    assert "not done: unknown or already used" in answers and "not done: expired" in answers


async def test_mute_and_unmute_name_the_bot(chat: Chat) -> None:
    assert (await chat.ask("/mute lxalgo")).text == f"fill alerts: muted for {LX}"
    assert (await chat.ask("/mute")).text == "fill alerts: muted for every bot"
    assert (await chat.ask("/unmute")).text == "fill alerts: on for every bot"
    assert "is not a known bot" in (await chat.ask("/mute ghost")).text


async def test_a_failing_facade_gets_a_one_line_reply_without_its_error(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    """The ledger goes away under the facade: the admin reads one line, the log has the rest."""
    await chat.control.fills.close()
    await chat.control.trips.close()
    reply = await chat.ask("/analytics")
    assert reply.text == "could not answer: internal error (logged)"
    assert any("handler failed" in r.getMessage() for r in caplog.records)
    assert (await chat.ask("/help")).text.startswith("Commands")
