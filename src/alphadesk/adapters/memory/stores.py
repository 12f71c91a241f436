"""In-process positions, market prices and bot status, with the Redis adapters' semantics.

Same ordering rule for positions (``(seq, updated_at)`` must grow), same flat tombstones, same
all-or-nothing rebuild swap, heartbeats that expire. The embedded mode (``alphadesk demo``) and
engine tests run on these; the behavioural tests run them side by side with the Redis ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.state_ports import PositionState, check_key_part, check_ttl

log = logging.getLogger(__name__)

_check_part = check_key_part


def writable_only(bot_id: str, fresh: dict[str, PositionState]) -> dict[str, PositionState]:
    """The states of a bot's rebuild whose symbol can be a key; the others are logged and left
    out, so one odd symbol cannot keep the bot's other positions from being written."""
    kept: dict[str, PositionState] = {}
    for symbol, state in fresh.items():
        try:
            kept[_check_part("symbol", symbol)] = state
        except InvalidField as exc:
            log.error("position %r/%r not written: %s", bot_id, symbol, exc)
    return kept


class MemoryPositionStore:
    def __init__(self) -> None:
        self._positions: dict[str, dict[str, PositionState]] = {}

    async def put_position(self, state: PositionState) -> bool:
        _check_part("bot_id", state.bot_id)
        _check_part("symbol", state.symbol)
        book = self._positions.setdefault(state.bot_id, {})
        current = book.get(state.symbol)
        if current is not None and current.version >= state.version:
            return False
        book[state.symbol] = state
        return True

    async def put_positions(self, states: Sequence[PositionState]) -> list[bool]:
        """Each state on its own: one whose key cannot be written is logged and reported as not
        applied (False), and the others are written (the Redis store does the same)."""
        applied: list[bool] = []
        for state in states:
            try:
                applied.append(await self.put_position(state))
            except InvalidField as exc:
                log.error("position %r/%r not written: %s", state.bot_id, state.symbol, exc)
                applied.append(False)
        return applied

    async def get_position(self, bot_id: str, symbol: str) -> PositionState | None:
        book = self._positions.get(_check_part("bot_id", bot_id), {})
        return book.get(_check_part("symbol", symbol))

    async def positions(self, bot_id: str) -> dict[str, PositionState]:
        return dict(sorted(self._positions.get(_check_part("bot_id", bot_id), {}).items()))

    async def replace_all_positions(self, bot_id: str, positions: Sequence[PositionState]) -> None:
        _check_part("bot_id", bot_id)
        for state in positions:
            if state.bot_id != bot_id:
                raise InvalidField("position.bot_id", state.bot_id, f"does not match {bot_id}")
        fresh = {state.symbol: state for state in positions}
        if len(fresh) != len(positions):
            raise InvalidField("positions", [s.symbol for s in positions], "repeat a symbol")
        self._positions[bot_id] = writable_only(bot_id, fresh)


class MemoryMarketStore:
    def __init__(self) -> None:
        self._prices: dict[str, Decimal] = {}
        self._volumes: dict[str, Decimal] = {}

    async def set_market(self, symbol: str, price: Decimal, volume: Decimal | None = None) -> None:
        _check_part("symbol", symbol)
        checks.positive("market.price", price)
        if volume is not None:
            checks.non_negative("market.volume", volume)
            self._volumes[symbol] = volume
        self._prices[symbol] = price

    async def set_markets(self, prices: Mapping[str, Decimal]) -> None:
        for symbol, price in prices.items():
            _check_part("symbol", symbol)
            checks.positive(f"market.price[{symbol}]", price)
        self._prices.update(prices)

    async def get_price(self, symbol: str) -> Decimal | None:
        return self._prices.get(_check_part("symbol", symbol))

    async def get_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        return {s: self._prices[s] for s in symbols if s in self._prices}

    async def get_volume(self, symbol: str) -> Decimal | None:
        return self._volumes.get(_check_part("symbol", symbol))


class MemoryBotStatusStore:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._status: dict[str, str] = {}
        self._beats: dict[str, tuple[datetime, float]] = {}
        self._monotonic = monotonic

    async def set_status(self, bot_id: str, status: str) -> None:
        self._status[_check_part("bot_id", bot_id)] = checks.text("bot.status", status, max_len=64)

    async def get_status(self, bot_id: str) -> str | None:
        return self._status.get(_check_part("bot_id", bot_id))

    async def beat(self, bot_id: str, at: datetime, ttl_s: float) -> None:
        _check_part("bot_id", bot_id)
        checks.utc("heartbeat.at", at)
        check_ttl(ttl_s)
        at = at.replace(microsecond=at.microsecond - at.microsecond % 1000)
        self._beats[bot_id] = (at, self._monotonic() + ttl_s)

    async def last_heartbeat(self, bot_id: str) -> datetime | None:
        beat = self._beats.get(bot_id)
        if beat is None:
            return None
        if self._monotonic() >= beat[1]:
            del self._beats[bot_id]
            return None
        return beat[0]
