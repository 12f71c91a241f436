"""Latest market price and volume per symbol: ``market:{symbol}:price`` / ``:volume``.

Plain overwrites of the newest value (the seed's README shape), as Decimal strings; no ordering
is needed because a price is only ever read as "the latest".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from redis.asyncio import Redis

from alphadesk.adapters.redis.keys import Keys
from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField


def _decimal(key: str, raw: bytes | str | None) -> Decimal | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvalidField(key, text, "is not a decimal") from None


class RedisMarketStore:
    def __init__(self, client: Redis, keys: Keys) -> None:
        self._client = client
        self._keys = keys

    async def set_market(self, symbol: str, price: Decimal, volume: Decimal | None = None) -> None:
        checks.positive("market.price", price)
        values = {self._keys.market_price(symbol): str(price)}
        if volume is not None:
            checks.non_negative("market.volume", volume)
            values[self._keys.market_volume(symbol)] = str(volume)
        await self._client.mset(values)

    async def set_markets(self, prices: Mapping[str, Decimal]) -> None:
        if not prices:
            return
        values = {}
        for symbol, price in prices.items():
            checks.positive(f"market.price[{symbol}]", price)
            values[self._keys.market_price(symbol)] = str(price)
        await self._client.mset(values)

    async def get_price(self, symbol: str) -> Decimal | None:
        key = self._keys.market_price(symbol)
        return _decimal(key, await self._client.get(key))

    async def get_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        if not symbols:
            return {}
        keys = [self._keys.market_price(s) for s in symbols]
        values = await self._client.mget(keys)
        found = {}
        for symbol, key, raw in zip(symbols, keys, values, strict=True):
            price = _decimal(key, raw)
            if price is not None:
                found[symbol] = price
        return found

    async def get_volume(self, symbol: str) -> Decimal | None:
        key = self._keys.market_volume(symbol)
        return _decimal(key, await self._client.get(key))
