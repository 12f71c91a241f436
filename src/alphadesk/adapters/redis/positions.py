"""Live positions in Redis, written idempotently and in order.

Ordering uses a Lua script rather than WATCH/MULTI: the compare (stored ``(seq, updated_at)``
against the new one) and the write must be one atomic step on the hot path of every fill, and a
script does that in one round trip with no retry loop under contention, and pipelines for
batches. The rebuild swap uses WATCH/MULTI instead, because it must first read the bot's symbol
set to know which keys to delete, and a script may only touch keys it is given (Redis Cluster);
the WATCH on that set makes a concurrent first write of a new symbol abort and retry the swap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import WatchError

from alphadesk.adapters.memory.stores import writable_only
from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.redis.position_codec import decode_position, encode_position, iso_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.state_ports import PositionState

# KEYS: position key, the bot's symbol set. ARGV: JSON, seq, updated_at, symbol.
# A stored value that is not ours (no numeric seq) is overwritten: the ledger is the truth.
_PUT = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' then
    local oseq = tonumber(old['seq'])
    local nseq = tonumber(ARGV[2])
    if oseq ~= nil then
      if oseq > nseq then return 0 end
      if oseq == nseq and type(old['updated_at']) == 'string'
         and old['updated_at'] >= ARGV[3] then return 0 end
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""

_SWAP_RETRIES = 50

log = logging.getLogger(__name__)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisPositionStore:
    def __init__(self, client: Redis, keys: Keys) -> None:
        self._client = client
        self._keys = keys
        self._put = client.register_script(_PUT)

    def _args(self, state: PositionState) -> tuple[list[str], list[str | int]]:
        keys = [
            self._keys.position(state.bot_id, state.symbol),
            self._keys.position_index(state.bot_id),
        ]
        return keys, [encode_position(state), state.seq, iso_ms(state.updated_at), state.symbol]

    async def put_position(self, state: PositionState) -> bool:
        keys, args = self._args(state)
        return bool(await self._put(keys=keys, args=args))

    async def put_positions(self, states: Sequence[PositionState]) -> list[bool]:
        """One pipelined round trip. A state whose key cannot be made (a bot id or symbol no
        key may hold) is logged and reported as not applied (False); the others are written."""
        if not states:
            return []
        applied = [False] * len(states)
        sent: list[int] = []
        async with self._client.pipeline(transaction=False) as pipe:
            for index, state in enumerate(states):
                try:
                    keys, args = self._args(state)
                except InvalidField as exc:
                    log.error("position %r/%r not written: %s", state.bot_id, state.symbol, exc)
                    continue
                await self._put(keys=keys, args=args, client=pipe)
                sent.append(index)
            results = await pipe.execute() if sent else []
        for index, result in zip(sent, results, strict=True):
            applied[index] = bool(result)
        return applied

    async def get_position(self, bot_id: str, symbol: str) -> PositionState | None:
        key = self._keys.position(bot_id, symbol)
        raw = await self._client.get(key)
        return None if raw is None else self._decode(key, bot_id, symbol, raw)

    async def positions(self, bot_id: str) -> dict[str, PositionState]:
        members = await self._client.smembers(self._keys.position_index(bot_id))
        symbols = sorted(_text(s) for s in members)
        if not symbols:
            return {}
        keys = [self._keys.position(bot_id, s) for s in symbols]
        values = await self._client.mget(keys)
        return {
            symbol: self._decode(key, bot_id, symbol, raw)
            for symbol, key, raw in zip(symbols, keys, values, strict=True)
            if raw is not None
        }

    async def replace_all_positions(self, bot_id: str, positions: Sequence[PositionState]) -> None:
        for state in positions:
            if state.bot_id != bot_id:
                raise InvalidField("position.bot_id", state.bot_id, f"does not match {bot_id}")
        fresh = {state.symbol: state for state in positions}
        if len(fresh) != len(positions):
            raise InvalidField("positions", [s.symbol for s in positions], "repeat a symbol")
        fresh = writable_only(bot_id, fresh)
        index = self._keys.position_index(bot_id)
        async with self._client.pipeline(transaction=True) as pipe:
            for _ in range(_SWAP_RETRIES):
                try:
                    await pipe.watch(index)
                    stored = {_text(s) for s in await pipe.smembers(index)}
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for symbol in sorted(stored - fresh.keys()):
                        pipe.delete(self._keys.position(bot_id, symbol))
                    pipe.delete(index)
                    for symbol, state in fresh.items():
                        pipe.set(self._keys.position(bot_id, symbol), encode_position(state))
                    if fresh:
                        pipe.sadd(index, *fresh)
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        raise RuntimeError(f"position rebuild of {bot_id} lost {_SWAP_RETRIES} races; retry it")

    @staticmethod
    def _decode(key: str, bot_id: str, symbol: str, raw: bytes | str) -> PositionState:
        try:
            return decode_position(bot_id, symbol, raw)
        except InvalidField as exc:
            raise InvalidField(key, raw, f"unreadable position: {exc}") from exc
