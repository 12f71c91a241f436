"""Bybit V5 WebSocket sessions: ``/v5/public/linear`` and ``/v5/private`` on the same port.

Ops: ``ping`` (public pong ``{"success", "ret_msg": "pong", "op": "ping"}``, private pong
``{"op": "pong", "args": [ms]}``), ``auth`` (private; ``GET/realtime{expires}`` HMAC),
``subscribe``/``unsubscribe`` with Bybit's ack. Every outgoing message passes one writer task per
connection, which is where WebSocket faults (drop, delay, reorder) are applied, so a test sees
them exactly as a network would cause them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from alphadesk.simulator import market_payloads as mp
from alphadesk.simulator.accounts import SimAccount
from alphadesk.simulator.auth import verify_ws
from alphadesk.simulator.errors import ApiError
from alphadesk.simulator.exchange import SimExchange
from alphadesk.simulator.http_common import wall_ms

PRIVATE_TOPICS = frozenset({"execution", "order", "position", "wallet"})


class WsSession:
    def __init__(self, exchange: SimExchange, channel: str) -> None:
        self.exchange = exchange
        self.channel = channel
        self.account: SimAccount | None = None
        self.topics: set[str] = set()
        self.conn_id = f"{uuid.uuid4().hex[:20]}-{channel[:3]}"
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._held: list[dict[str, Any]] = []
        self.sent = 0

    # Subscriber protocol
    def wants(self, topic: str) -> bool:
        return topic in self.topics

    def deliver(self, message: dict[str, Any]) -> None:
        if self.exchange.holding_pushes and "topic" in message:
            self._held.append(message)
        else:
            self.queue.put_nowait(message)

    def release(self) -> None:
        held, self._held = self._held, []
        for message in held:
            self.queue.put_nowait(message)

    def public_topics(self) -> Iterable[str]:
        return self.topics

    # ------------------------------------------------------------------------------------------
    def valid_topic(self, topic: str) -> bool:
        if self.channel == "private":
            return topic in PRIVATE_TOPICS
        parts = topic.split(".")
        if len(parts) == 2 and parts[0] in ("tickers", "publicTrade"):
            return parts[1] in self.exchange.instruments
        if len(parts) == 3 and parts[0] == "kline" and parts[2] in self.exchange.instruments:
            minutes = mp.parse_interval(parts[1])
            base = self.exchange.series[parts[2]].interval_min
            return minutes is not None and minutes % base == 0
        return False

    def handle(self, raw: str) -> None:
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            self.deliver({"success": False, "ret_msg": f"error:unmarshal error: {raw[:40]}",
                          "conn_id": self.conn_id, "op": ""})
            return
        op = str(request.get("op", ""))
        req_id = str(request.get("req_id", ""))
        if op == "ping":
            self.deliver(self._pong(req_id))
        elif op == "auth":
            self._auth(request.get("args"), req_id)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(op, request.get("args"), req_id)
        else:
            self.deliver(self._ack(op, req_id, False, f"error:handler not found,op:{op}"))

    def _pong(self, req_id: str) -> dict[str, Any]:
        if self.channel == "private":
            return {"req_id": req_id, "op": "pong", "args": [str(wall_ms())],
                    "conn_id": self.conn_id}
        return {"success": True, "ret_msg": "pong", "conn_id": self.conn_id, "req_id": req_id,
                "op": "ping"}

    def _ack(self, op: str, req_id: str, success: bool, message: str) -> dict[str, Any]:
        return {"success": success, "ret_msg": message, "conn_id": self.conn_id,
                "req_id": req_id, "op": op}

    def _auth(self, args: object, req_id: str) -> None:
        if self.channel != "private":
            self.deliver(self._ack("auth", req_id, False, "auth is for the private channel"))
            return
        try:
            self.account = verify_ws(args, self.exchange.accounts, wall_ms())
            code, message = 0, ""
        except ApiError as err:
            code, message = err.ret_code, err.ret_msg
        reply = self._ack("auth", req_id, code == 0, message)
        reply.update({"retCode": code, "retMsg": message, "connId": self.conn_id})
        self.deliver(reply)

    def _subscribe(self, op: str, args: object, req_id: str) -> None:
        topics = [str(a) for a in args] if isinstance(args, list) else []
        if self.channel == "private" and self.account is None:
            self.deliver(self._ack(op, req_id, False, "Request not authorized"))
            return
        bad = [t for t in topics if not self.valid_topic(t)]
        if not topics or bad:
            self.deliver(self._ack(op, req_id, False, f"Invalid topic: {','.join(bad) or '[]'}"))
            return
        if op == "subscribe":
            self.topics.update(topics)
        else:
            self.topics.difference_update(topics)
        self.deliver(self._ack(op, req_id, True, ""))
        if op == "subscribe":
            for topic in topics:
                if topic.startswith("tickers."):
                    symbol = topic.split(".", 1)[1]
                    payload = self.exchange.ticker(symbol)
                    self.deliver(mp.ws_ticker(payload, self.exchange.now_ms, 0))

    async def write_loop(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        faults = self.exchange.faults
        held: dict[str, Any] | None = None
        ready: deque[dict[str, Any]] = deque()
        while not ws.closed:
            if not ready:
                first = await self.queue.get()
                ready.extend(self._coalesced(first))
            message = ready.popleft()
            delay = faults.take_ws("delay", self.channel)
            if delay is not None:
                await asyncio.sleep(delay.delay_ms / 1000)
            if held is None and faults.take_ws("reorder", self.channel) is not None:
                held = message
                continue
            batch = [message] if held is None else [message, held]
            held = None
            for item in batch:
                await ws.send_str(_ENCODE(item).decode())
                self.sent += 1
                drop = faults.take_ws("drop", self.channel)
                if drop is not None and drop.remaining == 0:
                    _cut(request)
                    return


    def _coalesced(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        """``first`` and everything queued behind it, with topic messages of one topic merged
        (rows in their order) up to ``coalesce_rows`` rows a frame. Any other message (a pong,
        an ack) is a barrier nothing is merged across, so replies keep their place."""
        limit = self.exchange.coalesce_rows
        if limit <= 1 or self.queue.empty():
            return [first]
        frames: list[dict[str, Any]] = []
        open_frames: dict[str, dict[str, Any]] = {}
        for message in [first, *(self.queue.get_nowait() for _ in range(self.queue.qsize()))]:
            topic, data = message.get("topic"), message.get("data")
            if not isinstance(topic, str) or not isinstance(data, list):
                frames.append(message)
                open_frames.clear()
                continue
            into = open_frames.get(topic)
            if into is not None and len(into["data"]) + len(data) <= limit:
                into["data"].extend(data)
                continue
            own = {**message, "data": list(data)}  # messages are shared between connections
            open_frames[topic] = own
            frames.append(own)
        return frames


# msgspec rather than json.dumps: a flood pushes tens of thousands of rows, and the venue's
# encoding time is not what a listener test or benchmark means to measure
_ENCODE = msgspec.json.Encoder().encode


def _cut(request: web.Request) -> None:
    """Drop the TCP connection with no close frame, as a network failure does."""
    transport = request.transport
    if transport is not None:
        transport.abort()


async def serve(request: web.Request, exchange: SimExchange, channel: str) -> web.StreamResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    session = WsSession(exchange, channel)
    exchange.subscribers.add(session)
    writer = asyncio.create_task(session.write_loop(ws, request))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                session.handle(msg.data)
            elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            if writer.done():
                break
    finally:
        exchange.subscribers.discard(session)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
    return ws
