"""One Bybit V5 WebSocket session that stays up: auth, subscribe, ping, watchdog, reconnect.

Why not ccxt.pro's ``watch_*``: they hand back ccxt's unified structures, and for klines only
``[ts, o, h, l, c, v]`` floats, dropping Bybit's ``confirm`` flag (is the bar final?) and the
original strings; ccxt.pro also reconnects inside its own cache logic with no hook to run a REST
gap-fill after a reconnect. This client is small and keeps the raw frames. ccxt still decides
*where* it connects (see :mod:`transport`).

Life cycle: connect -> ``auth`` (private) -> ``subscribe`` (10 topics a request) -> once every
subscription is acknowledged the session is *ready*; if it is not the first connection, the
``on_reconnect`` hook then runs (in its own task, so frames keep flowing while it backfills).
A ping goes out every 20 s; if nothing at all arrives for ``silence_timeout_s`` the socket is
deemed dead and replaced. Reconnects back off exponentially with jitter, reset by a healthy
connection. A refused auth or subscription is not retried: the session stops with that error
(:attr:`failure`), because resending the same key or topic cannot succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.auth import ws_auth_message
from alphadesk.adapters.bybit.clock import ServerClock
from alphadesk.adapters.bybit.errors import AuthenticationFailed, BybitError, InvalidRequest
from alphadesk.adapters.bybit.ratelimit import backoff_delay
from alphadesk.adapters.bybit.secret import Secret
from alphadesk.adapters.bybit.wire import MalformedPayload, decode

log = logging.getLogger(__name__)

FrameHandler = Callable[[w.WsMessage], Awaitable[None]]
ReconnectHook = Callable[[], Awaitable[None]]
SUBSCRIBE_BATCH = 10


@dataclass(frozen=True, slots=True)
class WsSettings:
    ping_interval_s: float = 20.0
    silence_timeout_s: float = 45.0
    connect_timeout_s: float = 10.0
    handshake_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    auth_expires_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class WsCredentials:
    api_key: str = field(repr=False)
    secret: Secret = field(repr=False)


class _Dropped(Exception):
    """The socket closed or went silent; reconnect."""


class WsSession:
    def __init__(
        self,
        url: str,
        topics: Sequence[str],
        on_frame: FrameHandler,
        *,
        name: str = "bybit-ws",
        credentials: WsCredentials | None = None,
        clock: ServerClock | None = None,
        on_reconnect: ReconnectHook | None = None,
        settings: WsSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.topics = tuple(topics)
        self.name = name
        self.settings = settings or WsSettings()
        self.connections = 0
        self.reconnects = 0
        self.handler_errors = 0
        self.failure: BybitError | None = None
        self._on_frame = on_frame
        self._credentials = credentials
        self._clock = clock or ServerClock()
        self._on_reconnect = on_reconnect
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._hooks: set[asyncio.Task[None]] = set()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._closing = False

    def __repr__(self) -> str:
        return f"WsSession(name={self.name!r}, url={self.url!r}, topics={len(self.topics)})"

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.failure is None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def wait_ready(self, within_s: float = 10.0) -> None:
        """Wait for auth and every subscription to be acknowledged; raise the failure if any."""
        ready = asyncio.ensure_future(self._ready.wait())
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({ready, stopped}, timeout=within_s, return_when="FIRST_COMPLETED")
        finally:
            ready.cancel()
            stopped.cancel()
        if self.failure is not None:
            raise self.failure
        if not self._ready.is_set():
            raise TimeoutError(f"{self.name}: not ready after {within_s} s")

    async def drop(self) -> None:
        """Close the current socket as if the network dropped it (fault injection, tests)."""
        ws = self._ws
        if ws is not None:
            self._ready.clear()
            await ws.close()

    async def close(self) -> None:
        self._closing = True
        for hook in list(self._hooks):
            hook.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._stopped.set()

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        try:
            async with aiohttp.ClientSession() as http:
                while not self._closing:
                    healthy = False
                    try:
                        healthy = await self._connection(http)
                    except BybitError as error:
                        self.failure = error
                        log.error("%s: stopped: %s", self.name, error)
                        return
                    except (_Dropped, aiohttp.ClientError, OSError, TimeoutError) as exc:
                        log.warning("%s: connection lost: %s", self.name, type(exc).__name__)
                    self._ready.clear()
                    attempt = 0 if healthy else attempt + 1
                    delay = backoff_delay(
                        attempt,
                        base_s=self.settings.backoff_base_s,
                        cap_s=self.settings.backoff_cap_s,
                        rng=self._rng,
                    )
                    await asyncio.sleep(delay)
        finally:
            self._ws = None
            self._stopped.set()

    async def _connection(self, http: aiohttp.ClientSession) -> bool:
        """One socket's life; returns whether it got as far as ready (to reset the backoff)."""
        timeout = aiohttp.ClientWSTimeout(ws_close=2.0)
        async with asyncio.timeout(self.settings.connect_timeout_s):
            ws = await http.ws_connect(self.url, autoping=True, heartbeat=None, timeout=timeout)
        self._ws = ws
        self.connections += 1
        if self.connections > 1:
            self.reconnects += 1
        pinger = asyncio.create_task(self._ping(ws))
        try:
            pending = await self._handshake(ws)
            await self._read(ws, pending)
        finally:
            pinger.cancel()
            await ws.close()
        return self._ready.is_set()

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> int:
        """Auth (private) and send the subscriptions; returns how many acks to wait for."""
        if self._credentials is not None:
            expires = self._clock.now_ms() + self.settings.auth_expires_ms
            await ws.send_json(
                ws_auth_message(
                    self._credentials.api_key,
                    self._credentials.secret,
                    expires,
                    self._next_id("auth"),
                )
            )
            async with asyncio.timeout(self.settings.handshake_timeout_s):
                while True:
                    msg = await self._receive(ws)
                    if msg is not None and msg.op == "auth":
                        break
            if not msg.success:
                raise AuthenticationFailed(
                    f"WebSocket auth refused: {msg.retMsg or msg.ret_msg}",
                    ret_code=msg.retCode,
                    endpoint="/v5/private",
                )
        batches = [
            list(self.topics[i : i + SUBSCRIBE_BATCH])
            for i in range(0, len(self.topics), SUBSCRIBE_BATCH)
        ]
        for batch in batches:
            await ws.send_json({"req_id": self._next_id("sub"), "op": "subscribe", "args": batch})
        if not batches:
            self._became_ready()
        return len(batches)

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> w.WsMessage | None:
        """The next frame, decoded; the caller bounds the wait (the handshake's timeout, the
        read loop's :class:`_Silence`)."""
        raw = await ws.receive()
        if raw.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            try:  # msgspec reads a str as it is: no copy back into bytes
                return decode(raw.data, w.WsMessage, self.name)
            except MalformedPayload as exc:
                self.handler_errors += 1
                log.error("%s: undecodable frame: %s", self.name, exc)
                return None
        if raw.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            raise _Dropped("closed by peer")
        if raw.type is aiohttp.WSMsgType.ERROR:
            raise _Dropped(f"socket error {type(ws.exception()).__name__}")
        return None

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, pending_acks: int) -> None:
        with _Silence(self.settings.silence_timeout_s) as silence:
            while not self._closing:
                msg = await self._receive(ws)
                silence.heard()
                pending_acks = await self._dispatch(msg, pending_acks)

    async def _dispatch(self, msg: w.WsMessage | None, pending_acks: int) -> int:
        """Handle one frame; returns the subscription acks still awaited."""
        if msg is None:
            return pending_acks
        if msg.op == "subscribe":
            if not msg.success:
                raise InvalidRequest(
                    f"subscription refused: {msg.ret_msg or msg.retMsg}",
                    endpoint=self.url,
                )
            pending_acks -= 1
            if pending_acks == 0:
                self._became_ready()
            return pending_acks
        if msg.op or not msg.topic:
            return pending_acks  # pong, auth echo, anything without data
        try:
            await self._on_frame(msg)
        except Exception:  # a bad payload must not take the stream down
            self.handler_errors += 1
            log.exception("%s: handler failed on %s", self.name, msg.topic)
        return pending_acks

    def _became_ready(self) -> None:
        self._ready.set()
        if self.connections > 1 and self._on_reconnect is not None:
            task = asyncio.create_task(self._run_hook(), name=f"{self.name}-on-reconnect")
            self._hooks.add(task)
            task.add_done_callback(self._hooks.discard)

    async def _run_hook(self) -> None:
        assert self._on_reconnect is not None
        try:
            await self._on_reconnect()
        except Exception:
            log.exception("%s: on_reconnect hook failed", self.name)

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
            while not ws.closed:
                await asyncio.sleep(self.settings.ping_interval_s)
                await ws.send_str(_ping_frame(self._next_id("ping")))


class _Silence:
    """Drops the connection (raises :class:`_Dropped` in the reading task) after ``seconds``
    without a frame.

    One timer per quiet period instead of one per frame: a timer re-armed on every frame
    (``asyncio.timeout`` around each receive) cost about a tenth of a busy listener's CPU. The
    timer fires at the deadline of the last frame it knows of; if a frame came since, it is set
    again for that frame's deadline. Cancelling the task, then turning the cancellation into
    ``_Dropped`` unless someone else also cancelled it, is what ``asyncio.timeout`` does.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] | None = None) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        # Seconds, monotonic; the loop's own by default. A test passes its own and calls
        # :meth:`check` to play the timer at the time it chose.
        self._clock = clock or self._loop.time
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0
        self._fired = False

    def __enter__(self) -> _Silence:
        self._task = asyncio.current_task()
        self._last = self._clock()
        self._handle = self._loop.call_later(self.seconds, self.check)
        return self

    def heard(self) -> None:
        self._last = self._clock()

    def check(self) -> None:
        """What the timer does when it fires: drop the socket if the deadline has passed, else
        set the timer again for the last frame's deadline."""
        if self._handle is not None:
            self._handle.cancel()
        left = self._last + self.seconds - self._clock()
        if left > 0:
            self._handle = self._loop.call_later(left, self.check)
        elif self._task is not None:
            self._fired = True
            self._task.cancel()

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if (
            self._fired
            and et is asyncio.CancelledError
            and self._task is not None
            and self._task.uncancel() == 0
        ):
            raise _Dropped(f"silent for {self.seconds} s") from None


def _ping_frame(req_id: str) -> str:
    return msgspec.json.encode({"req_id": req_id, "op": "ping"}).decode()
