"""python-telegram-bot wiring: the admin gate, one handler per command, the flatten button.

Handlers only parse (:mod:`.commands`) and hand a :class:`~.commands.Request` to the
:class:`Responder` (which asks the control facade and renders). Everything said to Telegram goes
through :meth:`TelegramBot._out`, which masks the desk's secret values and any password in a URL,
so no message carries a key, a secret, a password or a connection string.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.secrets import Secret

from .batching import MAX_MESSAGE_CHARS
from .commands import SPECS, Request, UsageError, help_text, parse
from .confirm import Confirmations, Pending, Refusal
from .reply import Button, Reply

log = logging.getLogger(__name__)
audit = logging.getLogger("alphadesk.audit")

Context = ContextTypes.DEFAULT_TYPE
#: ``scheme://user:password@`` in any text: the password is masked whatever the scheme.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")
CONFIRM_TTL_S = 60.0


class Responder(Protocol):
    """Answers parsed requests (through the control facade); raises ``InvalidField`` (e.g. an
    unknown bot) for a reply naming what was wrong."""

    async def answer(self, request: Request, actor: str) -> Reply: ...

    async def resolve(self, bot: str) -> str:
        """The bot id a name means (raises ``InvalidField`` for an unknown one)."""
        ...

    async def flatten(self, bot: str, actor: str) -> Reply: ...


def scrub(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return _URL_PASSWORD.sub(r"\1***@", text)


def format_reply(reply: Reply, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """HTML messages for ``reply``: the head escaped, the table in ``<pre>``, split on line
    boundaries so no message passes Telegram's limit."""
    head = html.escape(reply.text)
    if not reply.table:
        return [head[:limit]]
    budget = limit - len("<pre></pre>") - 2
    chunks: list[list[str]] = [[]]
    size = len(head) + 1
    for line in reply.table.splitlines():
        escaped = html.escape(line)[: budget // 2]
        if chunks[-1] and size + len(escaped) + 1 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(escaped)
        size += len(escaped) + 1
    messages = [f"<pre>{chr(10).join(lines)}</pre>" for lines in chunks]
    messages[0] = f"{head}\n{messages[0]}" if head else messages[0]
    return messages


def actor_of(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "telegram:unknown"
    name = f" @{user.username}" if user.username else ""
    return f"telegram:{user.id}{name}"


class TelegramBot:
    def __init__(
        self,
        token: Secret,
        api_url: str,
        admins: Iterable[int],
        responder: Responder,
        *,
        secrets: Iterable[str] = (),
        confirm_ttl_s: float = CONFIRM_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._admins = frozenset(admins)
        self._responder = responder
        self._secrets = sorted({s for s in secrets if s} | {token.reveal()}, key=len,
                               reverse=True)  # fmt: skip
        self.confirmations = Confirmations(clock, confirm_ttl_s)
        self.application = self._build()

    # -- wiring --------------------------------------------------------------------------------

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        app = (
            ApplicationBuilder()
            .token(self._token.reveal())
            .base_url(f"{self._api_url}/bot")
            .base_file_url(f"{self._api_url}/file/bot")
            .job_queue(None)
            .build()
        )
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        for spec in SPECS:
            app.add_handler(CommandHandler(spec.name, self._command))
        app.add_handler(CallbackQueryHandler(self._button))
        app.add_handler(MessageHandler(filters.COMMAND, self._unknown))
        app.add_handler(MessageHandler(filters.ALL, self._chatter))
        app.add_error_handler(self._error)
        return app

    async def send_to_admins(self, text: str) -> None:
        """An alert message to every admin's private chat (their user id is the chat id)."""
        clean = self._out(text)
        for admin in sorted(self._admins):
            try:
                await self._send_alert(admin, clean)
            except TelegramError as exc:  # one admin who blocked the bot must not silence others
                log.error("telegram: alert to admin %s not delivered: %s", admin, exc)

    async def _send_alert(self, chat_id: int, text: str) -> None:
        try:
            await self.application.bot.send_message(chat_id, text)
        except RetryAfter as exc:  # Telegram asked us to slow down: once, then give up
            delay = exc.retry_after
            seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
            await asyncio.sleep(seconds)
            await self.application.bot.send_message(chat_id, text)

    def _out(self, text: str) -> str:
        return scrub(text, self._secrets)

    # -- handlers ------------------------------------------------------------------------------

    async def _gate(self, update: Update, context: Context) -> None:
        """Runs first for every update: a non-admin gets nothing and leaves an audit line. An
        admin is answered only in their private chat: in a group, everyone would read the
        desk's figures."""
        user = update.effective_user
        chat = update.effective_chat
        private = chat is None or chat.type == ChatType.PRIVATE
        if user is not None and user.id in self._admins and private:
            return
        what = "?"
        if update.effective_message is not None and update.effective_message.text:
            what = update.effective_message.text.split()[0][:40]
        elif update.callback_query is not None:
            what = "button"
        where = "" if private else f" chat={chat.type if chat else None}"
        audit.warning("telegram: refused user_id=%s username=%s update=%s%s",
                      user.id if user else None, user.username if user else None,
                      what, where)  # fmt: skip
        raise ApplicationHandlerStop

    async def _command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        user = update.effective_user
        if user is None:
            return
        try:
            request = parse(name, context.args or [])
        except UsageError as exc:
            await self._send(update, Reply(exc.usage))
            return
        try:
            reply = await self._answer(request, user.id, actor_of(update))
        except InvalidField as exc:
            reply = Reply(f"{exc.reason}" if exc.field == "bot" else str(exc))
        await self._send(update, reply)

    async def _answer(self, request: Request, user: int, actor: str) -> Reply:
        if request.command in ("start", "help"):
            intro = ("AlphaDesk command bot: watch and steer every bot of the desk.\n\n"
                     if request.command == "start" else "")  # fmt: skip
            return Reply(intro + help_text())
        if request.command == "flatten":
            assert request.bot is not None
            bot = await self._responder.resolve(request.bot)
            token = self.confirmations.ask("flatten", bot, user)
            ttl = round(self.confirmations.ttl_s)
            return Reply(
                f"Flatten {bot}? The bot closes all its positions at market. "
                f"This button expires in {ttl} s; nothing happens without it.",
                buttons=(Button(f"Flatten {bot}", f"flatten:{token}"),
                         Button("Cancel", f"cancel:{token}")),
            )  # fmt: skip
        return await self._responder.answer(request, actor)

    async def _button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or update.effective_user is None:
            return
        action, _, token = (query.data or "").partition(":")
        user = update.effective_user.id
        actor = actor_of(update)
        if action == "cancel":
            cancelled = self.confirmations.cancel(token, user)
            await query.answer("cancelled" if cancelled else "nothing to cancel")
            if cancelled:
                await query.edit_message_text(self._out(f"Flatten {cancelled.bot}: cancelled."))
            return
        taken = self.confirmations.take(token, user) if action == "flatten" else Refusal.UNKNOWN
        if isinstance(taken, Refusal):
            await query.answer(f"not done: {taken.value}")
            if taken is Refusal.EXPIRED:
                await query.edit_message_text(self._out("Flatten: the button expired; nothing "
                                                        "was done."))  # fmt: skip
            return
        await query.answer("sending")
        reply = await self._flatten(taken, actor)
        await query.edit_message_text(self._out(reply.text))

    async def _flatten(self, pending: Pending, actor: str) -> Reply:
        try:
            return await self._responder.flatten(pending.bot, actor)
        except InvalidField as exc:
            return Reply(str(exc))

    async def _unknown(self, update: Update, context: Context) -> None:
        message = update.effective_message
        word = (message.text or "").split()[0][:40] if message and message.text else "?"
        await self._send(update, Reply(f"unknown command {word}; /help lists them"))

    async def _chatter(self, update: Update, context: Context) -> None:
        await self._send(update, Reply("send /help for the commands"))

    async def _error(self, update: object, context: Context) -> None:
        """The last stop: logged (masked by the log filter), and a one-line reply without the
        error's text, which might quote a connection string."""
        error = context.error
        log.error("telegram: handler failed: %s: %s", type(error).__name__, error,
                  exc_info=error if not isinstance(error, TelegramError) else None)  # fmt: skip
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(TelegramError):
                await self._send(update, Reply("could not answer: internal error (logged)"))

    async def _send(self, update: Update, reply: Reply) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        markup = None
        if reply.buttons:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)
                                            for b in reply.buttons]])  # fmt: skip
        messages = [self._out(m) for m in format_reply(reply)]
        bot = self.application.bot
        for i, text in enumerate(messages):
            last = i == len(messages) - 1
            await bot.send_message(chat.id, text, parse_mode=ParseMode.HTML,
                                   reply_markup=markup if last else None)  # fmt: skip
        if reply.photo is not None:
            await bot.send_photo(chat.id, InputFile(reply.photo, filename="equity.png"))

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, poll_timeout_s: int = 10) -> None:
        """Poll until ``stop`` is set."""
        app = self.application
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=poll_timeout_s,
                                            drop_pending_updates=False)  # fmt: skip
            log.info("telegram: polling %s for %d admin(s)", self._api_url, len(self._admins))
            try:
                await stop.wait()
            finally:
                await app.updater.stop()
                await app.stop()
