"""Every Redis key and channel name of the desk; nothing else builds one.

Names are the seed's (``position:shortseller_001:BTCUSDT``, ``fills_channel`` …) under an optional
namespace prefix. Bots are kept apart by these prefixes, not by Redis DB numbers, because Redis
Cluster only has DB 0. Production leaves the namespace empty so the seed's names appear exactly;
tests give each test its own (``t:3f9a0c1d2b4e:``). On Redis Cluster a namespace with a hash tag
(``{desk}:``) puts every key in one slot, which the multi-key scripts and transactions need.

The few names the seed did not have: ``positions:{bot_id}`` (the set of a bot's symbols, so a
rebuild can find what to delete without SCAN) and stream ``events:bars``.
"""

from __future__ import annotations

from dataclasses import dataclass

from alphadesk.domain.errors import InvalidField
from alphadesk.engine.state_ports import check_key_part

_part = check_key_part


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.namespace, str) or any(c in self.namespace for c in "*?[]\\ "):
            raise InvalidField(
                "redis.namespace", self.namespace, "must be a str without glob characters or spaces"
            )

    def _key(self, name: str) -> str:
        return f"{self.namespace}{name}"

    # positions
    def position(self, bot_id: str, symbol: str) -> str:
        return self._key(f"position:{_part('bot_id', bot_id)}:{_part('symbol', symbol)}")

    def position_index(self, bot_id: str) -> str:
        return self._key(f"positions:{_part('bot_id', bot_id)}")

    # market
    def market_price(self, symbol: str) -> str:
        return self._key(f"market:{_part('symbol', symbol)}:price")

    def market_volume(self, symbol: str) -> str:
        return self._key(f"market:{_part('symbol', symbol)}:volume")

    # bus
    @property
    def fills_stream(self) -> str:
        return self._key("events:fills")

    @property
    def fills_announced(self) -> str:
        """The fills announced lately (a sorted set), so each is announced once."""
        return self._key("events:fills:announced")

    @property
    def fills_mark(self) -> str:
        """How far the ledger's rows have been announced (JSON: table -> row id)."""
        return self._key("events:fills:mark")

    @property
    def fills_channel(self) -> str:
        return self._key("fills_channel")

    @property
    def bars_stream(self) -> str:
        return self._key("events:bars")

    @property
    def alerts_stream(self) -> str:
        return self._key("events:alerts")

    # bots
    def bot_status(self, bot_id: str) -> str:
        return self._key(f"bot:{_part('bot_id', bot_id)}:status")

    def bot_heartbeat(self, bot_id: str) -> str:
        return self._key(f"bot:{_part('bot_id', bot_id)}:heartbeat")

    def commands(self, bot_id: str) -> str:
        return self._key(f"commands:{_part('bot_id', bot_id)}")
