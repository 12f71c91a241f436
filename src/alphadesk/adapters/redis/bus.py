"""The event bus on Redis: streams ``events:fills`` / ``events:bars`` / ``events:alerts`` and
channel ``fills_channel``.

Each stream entry has one field, ``data``, holding the event's JSON (see ``fill_codec`` and
``bar_codec``). Streams are capped with ``XADD MAXLEN ~`` (approximate trimming costs nothing
per append). Consumer groups are created on demand with MKSTREAM, starting at the beginning of
the stream, so a consumer that starts after the first publish still sees every retained event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ResponseError

from alphadesk.adapters.redis.alert_codec import decode_alert, encode_alert
from alphadesk.adapters.redis.bar_codec import decode_bar, encode_bar
from alphadesk.adapters.redis.command_codec import decode_command, encode_command
from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.spool.fill_codec import decode_fill, encode_fill
from alphadesk.domain.alerts import Alert
from alphadesk.domain.bars import Bar
from alphadesk.domain.commands import ControlCommand
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import (
    ANNOUNCED_KEEP,
    COMMANDS_MAXLEN,
    STREAM_MAXLEN,
    CorruptEvent,
    Delivery,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_STREAM_ID = re.compile(r"\d{1,20}-\d{1,20}")


def _stream_id(field: str, value: str) -> str:
    if not isinstance(value, str) or _STREAM_ID.fullmatch(value) is None:
        raise InvalidField(field, value, "must be a stream id '<ms>-<seq>'")
    return value

_FIELD = b"data"


# Every fill of a batch appended to the stream, then announced on the channel, in one command:
# a pipeline of two commands per fill costs the client more than Redis spends running them.
# Each fill is announced once whoever offers it: ``KEYS[2]`` (a sorted set, scored by when) holds
# the fills announced lately, and a fill already in it is skipped (its reply is false). The set
# keeps the newest ``ARGV[4]`` members; a publisher only ever offers again rows near the newest.
# ``ARGV[3]`` (JSON: ledger table -> highest row id announced) is merged, per table the higher,
# into ``KEYS[3]`` in the same atomic step: a publisher that starts after a crash reads it back
# and offers what was committed after it (see the Announcer).
_PUBLISH_FILLS = """
local ids = {}
local sent = {}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 5, #ARGV, 2 do
  if redis.call('ZADD', KEYS[2], 'NX', now, ARGV[i]) == 1 then
    ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i + 1])
    sent[#sent + 1] = ARGV[i + 1]
  else
    ids[#ids + 1] = false
  end
end
for j = 1, #sent do
  redis.call('PUBLISH', ARGV[2], sent[j])
end
local keep = tonumber(ARGV[4])
if redis.call('ZCARD', KEYS[2]) > keep + 1000 then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1))
end
if ARGV[3] ~= '' then
  local marks = cjson.decode(ARGV[3])
  local old = redis.call('GET', KEYS[3])
  if old then
    for k, v in pairs(cjson.decode(old)) do
      if marks[k] == nil or marks[k] < v then marks[k] = v end
    end
  end
  redis.call('SET', KEYS[3], cjson.encode(marks))
end
return ids
"""
_SCRIPT_CHUNK = 1_000  # fills per script call: Redis serves nobody else while one runs


def announcement_key(fill: Fill) -> str:
    """What identifies a fill among those announced: its ledger key, each part length-prefixed
    so no two keys spell the same string."""
    venue, account, exec_id = fill.key
    return f"{len(venue)}:{venue}{len(account)}:{account}{exec_id}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisStream(Generic[T]):
    """One durable stream with consumer groups (the ``EventStream`` port)."""

    def __init__(
        self,
        client: Redis,
        name: str,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes | str], T],
        maxlen: int = STREAM_MAXLEN,
    ) -> None:
        self._client = client
        self._name = name
        self._encode = encode
        self._decode = decode
        self._maxlen = maxlen

    @property
    def name(self) -> str:
        return self._name

    def add_to(self, pipe: Any, event: T) -> None:
        pipe.xadd(self._name, {_FIELD: self._encode(event)}, maxlen=self._maxlen, approximate=True)

    async def publish(self, events: Sequence[T]) -> list[str]:
        if not events:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for event in events:
                self.add_to(pipe, event)
            ids = await pipe.execute()
        return [_text(i) for i in ids]

    async def ensure_group(self, group: str) -> None:
        try:
            await self._client.xgroup_create(self._name, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(
        self,
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
        pending: bool = False,
    ) -> list[Delivery[T]]:
        start = "0" if pending else ">"
        block = None if pending else block_ms
        try:
            reply: Any = await self._client.xreadgroup(
                group, consumer, {self._name: start}, count=count, block=block
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.ensure_group(group)
            reply = await self._client.xreadgroup(
                group, consumer, {self._name: start}, count=count, block=block
            )
        entries = reply[0][1] if reply else []
        return self._deliveries(entries)

    def _deliveries(self, entries: Sequence[Any]) -> list[Delivery[T]]:
        out: list[Delivery[T]] = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            if not fields:
                # Pending, but trimmed away by MAXLEN: nothing left to deliver.
                log.warning("%s entry %s was trimmed before it was acked", self._name, entry_id)
                continue
            data = fields.get(_FIELD, fields.get(_FIELD.decode()))
            if data is None:
                raise CorruptEvent(self._name, entry_id, "no 'data' field")
            try:
                out.append(Delivery(entry_id, self._decode(data)))
            except InvalidField as exc:
                raise CorruptEvent(self._name, entry_id, str(exc)) from exc
        return out

    async def ack(self, group: str, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        return int(await self._client.xack(self._name, group, *ids))

    async def claim(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Delivery[T]]:
        claimed: list[Any] = []
        cursor = "0-0"
        try:
            while len(claimed) < count:
                reply = await self._client.xautoclaim(
                    self._name,
                    group,
                    consumer,
                    min_idle_ms,
                    start_id=cursor,
                    count=count - len(claimed),
                )
                cursor, entries = _text(reply[0]), reply[1]
                claimed.extend(entries)
                if cursor == "0-0":
                    break
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return []
        return self._deliveries(claimed)

    async def pending_count(self, group: str) -> int:
        try:
            summary = await self._client.xpending(self._name, group)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return 0
        return int(summary["pending"])

    async def length(self) -> int:
        return int(await self._client.xlen(self._name))

    async def recent(self, count: int, *, before: str | None = None) -> list[Delivery[T]]:
        if count < 1:
            return []
        newest = "+" if before is None else "(" + _stream_id("before", before)
        entries: Any = await self._client.xrevrange(self._name, max=newest, count=count)
        return self._deliveries(entries)


class RedisFillSubscription:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def get(self, wait_s: float) -> Fill | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is None or message.get("type") != "message":
                continue
            try:
                return decode_fill(message["data"])
            except InvalidField as exc:  # a hint channel: a bad hint is skipped, not fatal
                log.warning("ignoring an unreadable fill notification: %s", exc)
        return None

    async def wait_subscribed(self, wait_s: float) -> None:
        """Wait for Redis to confirm the subscription, so a publish right after it is seen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            message = await self._pubsub.get_message(timeout=left)
            if message is not None and message.get("type") == "subscribe":
                return
        raise TimeoutError(f"no subscribe confirmation from Redis within {wait_s} s")


class RedisEventBus:
    def __init__(self, client: Redis, keys: Keys, *, maxlen: int = STREAM_MAXLEN) -> None:
        self._client = client
        self._keys = keys
        self._fills = RedisStream[Fill](client, keys.fills_stream, encode_fill, decode_fill, maxlen)
        self._bars = RedisStream[Bar](client, keys.bars_stream, encode_bar, decode_bar, maxlen)
        self._alerts = RedisStream[Alert](
            client, keys.alerts_stream, encode_alert, decode_alert, maxlen
        )
        self._maxlen = maxlen
        self._publish_script = client.register_script(_PUBLISH_FILLS)
        self._commands: dict[str, RedisStream[ControlCommand]] = {}

    @property
    def fills(self) -> RedisStream[Fill]:
        return self._fills

    @property
    def bars(self) -> RedisStream[Bar]:
        return self._bars

    @property
    def alerts(self) -> RedisStream[Alert]:
        return self._alerts

    async def alert(self, alert: Alert) -> None:
        await self._alerts.publish([alert])

    def commands(self, bot_id: str) -> RedisStream[ControlCommand]:
        """``commands:{bot_id}``: the owner's commands to one bot (the ``CommandStreams`` port)."""
        stream = self._commands.get(bot_id)
        if stream is None:
            name = self._keys.commands(bot_id)
            stream = RedisStream(
                self._client, name, encode_command, decode_command, COMMANDS_MAXLEN
            )
            self._commands[bot_id] = stream
        return stream

    async def publish_fills(
        self, fills: Sequence[Fill], *, announced: Mapping[str, int] | None = None
    ) -> list[str]:
        """Stream first, then the notification; one script call per chunk of fills. A fill
        announced before (by any publisher) is skipped: its id in the reply is ``""``."""
        ids: list[str] = []
        mark = json.dumps(dict(announced), sort_keys=True) if announced else ""
        for start in range(0, len(fills), _SCRIPT_CHUNK):
            chunk = fills[start : start + _SCRIPT_CHUNK]
            pairs: list[str | bytes] = []
            for fill in chunk:
                pairs.append(announcement_key(fill))
                pairs.append(encode_fill(fill))
            replies = await self._publish_script(
                keys=[self._keys.fills_stream, self._keys.fills_announced, self._keys.fills_mark],
                args=[self._maxlen, self._keys.fills_channel, mark, ANNOUNCED_KEEP, *pairs],
            )
            ids.extend(_text(i) if i else "" for i in replies)
        return ids

    async def announced(self) -> dict[str, int]:
        """How far the ledger's rows have been announced; {} when never (a new stream, or a
        Redis that lost its data). Streams written before the mark had a key of its own kept
        it on their newest entry."""
        raw = await self._client.get(self._keys.fills_mark)
        if raw is None:
            newest = await self._client.xrevrange(self._keys.fills_stream, count=1)
            entry = (newest[0][1] or {}) if newest else {}
            raw = entry.get(b"announced") or entry.get("announced")
            if raw is None:
                return {}
        try:
            marks = json.loads(raw)
        except ValueError:
            raise InvalidField("events:fills announced", raw, "is not JSON") from None
        if not isinstance(marks, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in marks.items()
        ):
            raise InvalidField("events:fills announced", raw, "must map tables to row ids")
        return marks

    async def notify_fills(self, fills: Sequence[Fill]) -> int:
        if not fills:
            return 0
        async with self._client.pipeline(transaction=False) as pipe:
            for fill in fills:
                pipe.publish(self._keys.fills_channel, encode_fill(fill))
            replies = await pipe.execute()
        return sum(int(r) for r in replies)

    @asynccontextmanager
    async def subscribe_fills(self) -> AsyncIterator[RedisFillSubscription]:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._keys.fills_channel)
            subscription = RedisFillSubscription(pubsub)
            await subscription.wait_subscribed(5.0)
            yield subscription
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
