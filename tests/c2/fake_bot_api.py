"""A local fake of Telegram's Bot API over real HTTP on 127.0.0.1 (aiohttp), for the real bot.

Serves ``/bot{token}/{method}``: ``getUpdates`` hands out queued updates (a short long-poll when
none wait), ``sendMessage``/``sendPhoto``/``editMessageText`` answer a Message, everything else
``true``. Every call is recorded with its decoded parameters (and the size and PNG signature of an
uploaded photo), so a test asserts on exactly what the bot said to Telegram, and waits on a
condition rather than sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777000111
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(slots=True)
class Call:
    token: str
    method: str
    params: dict[str, Any]
    photo: bytes | None = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))


@dataclass
class FakeBotApi:
    token: str
    calls: list[Call] = field(default_factory=list)
    poll_cap_s: float = 0.25
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update: int = 1
    _next_message: int = 1000
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what a user does ----------------------------------------------------------------------

    async def command(self, user_id: int, text: str, *, username: str = "owner",
                      group: int | None = None) -> int:  # fmt: skip
        """The user sends ``text`` in their private chat (or the group ``group``); returns the
        message id."""
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message = {
            "message_id": self._message_id(), "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"} if group is None
                    else {"id": group, "type": "group", "title": "desk"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U", "username": username},
            "text": text, "entities": entities,
        }  # fmt: skip
        await self._push({"message": message})
        return int(message["message_id"])

    async def press(self, user_id: int, data: str, message_id: int, *,
                    username: str = "owner") -> None:  # fmt: skip
        """The user presses an inline button whose callback data is ``data``."""
        query = {
            "id": f"cb{self._next_update}", "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "U", "username": username},
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private"}, "text": "…"},
        }  # fmt: skip
        await self._push({"callback_query": query})

    async def _push(self, update: dict[str, Any]) -> None:
        async with self._changed:
            update["update_id"] = self._next_update
            self._next_update += 1
            self._updates.append(update)
            self._changed.notify_all()

    # -- what the test checks ------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)]  # fmt: skip

    async def wait_for(
        self, predicate: Callable[[list[Call]], bool], timeout_s: float = 30.0
    ) -> list[Call]:
        """Wait until ``predicate(calls)`` holds (re-checked on every call the bot makes)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.calls)),
                                   timeout_s)  # fmt: skip
        return self.calls

    async def wait_sent(
        self, count: int, method: str = "sendMessage", chat_id: int | None = None,
        timeout_s: float = 30.0,
    ) -> list[Call]:
        await self.wait_for(lambda _: len(self.sent(method, chat_id)) >= count, timeout_s)
        return self.sent(method, chat_id)

    # -- the server ----------------------------------------------------------------------------

    def _message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], bytes | None]:
        params: dict[str, Any] = {}
        photo: bytes | None = None
        if request.content_type == "application/json":
            params = dict(await request.json())
            return params, None
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                photo = value.file.read()
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params, photo

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)  # fmt: skip
        params, photo = await self._params(request)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        async with self._changed:
            self.calls.append(Call(token, method, params, photo))
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), self.poll_cap_s)

        def ready() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset]

        async with self._changed:
            self._updates = ready()  # confirmed updates are forgotten, as Telegram does
            if not self._updates and wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(ready())), wait)
            return ready()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "AlphaDesk",
                    "username": "alphadesk_test_bot", "can_join_groups": False,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False}  # fmt: skip
        chat = {"id": int(params.get("chat_id", 0) or 0), "type": "private"}
        base = {"message_id": self._message_id(), "date": int(time.time()), "chat": chat}
        if method == "sendMessage":
            return {**base, "text": str(params.get("text", ""))}
        if method == "sendPhoto":
            return {**base, "photo": [{"file_id": "p1", "file_unique_id": "u1",
                                       "width": 800, "height": 400}]}  # fmt: skip
        if method == "editMessageText":
            return {**base, "message_id": int(params.get("message_id", 0) or 0),
                    "text": str(params.get("text", ""))}  # fmt: skip
        return True
