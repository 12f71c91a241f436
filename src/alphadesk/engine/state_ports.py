"""Ports of live state and the event bus: what engine code sees of Redis (or its in-process twin).

Redis is a rebuildable cache and PostgreSQL is the truth, so every write here is either
idempotent and ordered by a version (positions) or a plain overwrite of a latest value (prices,
status). The bus has two halves with different promises: durable streams read through consumer
groups (an entry stays pending until acked, and a crashed consumer's entries can be re-read or
claimed), and fire-and-forget notifications that a subscriber only sees while it listens.

Both the Redis adapters (``alphadesk.adapters.redis``) and the in-process ones
(``alphadesk.adapters.memory``, the embedded mode of ``alphadesk demo``) implement these, with the
same behaviour; the behavioural tests run against both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from alphadesk.domain import checks
from alphadesk.domain.alerts import Alert
from alphadesk.domain.bars import Bar
from alphadesk.domain.commands import ControlCommand
from alphadesk.domain.dead_letters import DeadLetter
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import Position

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Cap on the length of each durable stream (Redis ``XADD MAXLEN ~``): about a year of fills of a
#: busy desk, bounded so a forgotten consumer group cannot grow Redis without limit.
STREAM_MAXLEN = 1_000_000
#: Cap on each bot's command stream: commands are few; a bot acks each as it applies it.
COMMANDS_MAXLEN = 10_000


def raise_marks(into: dict[str, int], marks: Mapping[str, int]) -> None:
    """Merge ledger marks (table -> highest row id): per table the higher stays, so a mark only
    grows. The bus's ``announced`` mark, and every writer's own, follow this one rule."""
    for table, row_id in marks.items():
        into[table] = max(into.get(table, 0), row_id)


#: How many announced fills the bus remembers so that each is announced once whoever offers it
#: (a publisher only offers again rows near the newest; about 100 bytes each in Redis).
ANNOUNCED_KEEP = 200_000


#: Characters a bot id or symbol may not hold in state: the key separator, glob and hash-tag
#: characters and whitespace, so one bot's keys can never spell another's and SCANs stay exact.
KEY_PART_FORBIDDEN = frozenset(":*?[]{}\\ \t\r\n")


def check_key_part(field: str, value: object) -> str:
    """Both implementations refuse the same ids, so the embedded mode hides no Redis failure."""
    if not isinstance(value, str) or not value:
        raise InvalidField(field, value, "must be a non-empty str")
    bad = sorted(set(value) & KEY_PART_FORBIDDEN)
    if bad:
        raise InvalidField(field, value, f"must not contain {''.join(bad)!r}")
    return value


def check_ttl(ttl_s: object) -> float:
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float) or not 0 < ttl_s < 86_400:
        raise InvalidField("heartbeat.ttl_s", ttl_s, "must be a number of seconds in (0, 86400)")
    return float(ttl_s)


# ---------------------------------------------------------------------------------------------
# Positions


@dataclass(frozen=True, slots=True)
class PositionState:
    """One bot's live position in one symbol, as the state store holds it.

    ``seq`` orders writes: the ledger's count of fills folded into this position (its
    ``PositionRecord.fill_count``), which only grows. A write is applied only when
    ``(seq, updated_at)`` is greater than the stored one, so a replayed or late update never
    overwrites a newer one, and a mark-to-market refresh (same ``seq``, later ``updated_at``) does.
    ``updated_at`` is kept to the millisecond: the precision of the stored JSON and of the venue.
    ``side`` is None exactly when flat (stored as the seed's ``"None"``); a flat position stays
    stored as a versioned tombstone, so a stale open cannot resurrect it.
    """

    bot_id: str
    symbol: str
    size: Decimal
    side: Side | None
    avg_price: Decimal
    unrealized_pnl: Decimal
    updated_at: datetime
    seq: int

    def __post_init__(self) -> None:
        checks.text("position.bot_id", self.bot_id, max_len=50)
        checks.text("position.symbol", self.symbol, max_len=20)
        checks.non_negative("position.size", self.size)
        checks.non_negative("position.avg_price", self.avg_price)
        checks.decimal("position.unrealized_pnl", self.unrealized_pnl)
        checks.utc("position.updated_at", self.updated_at)
        if self.side is not None and not isinstance(self.side, Side):
            object.__setattr__(self, "side", Side.parse(self.side, "position.side"))
        if (self.side is None) != (self.size == 0):
            raise InvalidField(
                "position.side",
                self.side,
                f"must be None exactly when size is 0 (size={self.size})",
            )
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise InvalidField("position.seq", self.seq, "must be an int >= 0")
        micros = self.updated_at.microsecond
        if micros % 1000:
            object.__setattr__(
                self, "updated_at", self.updated_at.replace(microsecond=micros - micros % 1000)
            )

    @property
    def version(self) -> tuple[int, datetime]:
        return (self.seq, self.updated_at)

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @classmethod
    def from_position(
        cls,
        position: Position,
        *,
        seq: int,
        updated_at: datetime,
        mark_price: Decimal | None = None,
    ) -> PositionState:
        """The state of a ledger position; unrealized PnL needs a mark price (0 without one)."""
        unrealized = position.unrealized_pnl(mark_price) if mark_price is not None else Decimal(0)
        return cls(
            bot_id=position.bot_id,
            symbol=position.symbol,
            size=position.size,
            side=position.side,
            avg_price=position.avg_entry_price,
            unrealized_pnl=unrealized,
            updated_at=updated_at,
            seq=seq,
        )


class PositionStore(Protocol):
    """Live positions per bot and symbol (Redis ``position:{bot_id}:{symbol}``)."""

    async def put_position(self, state: PositionState) -> bool:
        """Store ``state`` unless the stored one is as new or newer; True when it was written."""
        ...

    async def put_positions(self, states: Sequence[PositionState]) -> list[bool]:
        """``put_position`` for many, in one round trip; one flag per state, in order."""
        ...

    async def get_position(self, bot_id: str, symbol: str) -> PositionState | None: ...

    async def positions(self, bot_id: str) -> dict[str, PositionState]:
        """Every stored position of the bot (flat tombstones included), by symbol."""
        ...

    async def replace_all_positions(self, bot_id: str, positions: Sequence[PositionState]) -> None:
        """Atomically make ``positions`` the bot's whole set (``alphadesk state rebuild``).

        Unconditional on purpose: the rebuild comes from the ledger, the truth, and must be able
        to repair a cache whose versions are wrong. Symbols not in ``positions`` are deleted.
        """
        ...


# ---------------------------------------------------------------------------------------------
# Market state, bot status


class MarketStateStore(Protocol):
    """Latest price and volume per symbol (``market:{symbol}:price`` / ``:volume``)."""

    async def set_market(
        self, symbol: str, price: Decimal, volume: Decimal | None = None
    ) -> None: ...

    async def set_markets(self, prices: Mapping[str, Decimal]) -> None: ...

    async def get_price(self, symbol: str) -> Decimal | None: ...

    async def get_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        """Prices of the symbols that have one."""
        ...

    async def get_volume(self, symbol: str) -> Decimal | None: ...


class BotStatusStore(Protocol):
    """``bot:{bot_id}:status`` (a word such as ``running``) and ``bot:{bot_id}:heartbeat``.

    A heartbeat expires after its ``ttl_s``: a bot that stops beating disappears from the
    heartbeat keys on its own, so a watcher needs no clock agreement with it.
    """

    async def set_status(self, bot_id: str, status: str) -> None: ...

    async def get_status(self, bot_id: str) -> str | None: ...

    async def beat(self, bot_id: str, at: datetime, ttl_s: float) -> None: ...

    async def last_heartbeat(self, bot_id: str) -> datetime | None: ...


# ---------------------------------------------------------------------------------------------
# Event bus


class CorruptEvent(ValueError):
    """A stream entry that cannot be decoded; ``entry_id`` lets the caller ack or park it.

    The entry stays pending in its group (it was delivered), so it is never lost silently.
    """

    def __init__(self, stream: str, entry_id: str, reason: str) -> None:
        self.stream = stream
        self.entry_id = entry_id
        self.reason = reason
        super().__init__(f"{stream} entry {entry_id}: {reason}")


@dataclass(frozen=True, slots=True)
class Delivery(Generic[T_co]):
    """One stream entry handed to a consumer; ack ``id`` once the event is processed."""

    id: str
    event: T_co


class EventStream(Protocol[T]):
    """A durable, capped stream read through consumer groups (Redis Streams semantics).

    ``read`` with ``pending=False`` hands out entries no consumer of the group has seen (``>``);
    they stay pending for that consumer until acked. After a crash the same consumer name reads
    its own pending entries again with ``pending=True`` (id ``0``), and another consumer can take
    over entries idle for ``min_idle_ms`` with ``claim`` (XAUTOCLAIM). Groups are created on
    demand (MKSTREAM) and start at the beginning of the stream.
    """

    @property
    def name(self) -> str: ...

    async def publish(self, events: Sequence[T]) -> list[str]:
        """Append in order, one round trip; returns the entry ids."""
        ...

    async def read(
        self,
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = None,
        pending: bool = False,
    ) -> list[Delivery[T]]: ...

    async def ack(self, group: str, ids: Sequence[str]) -> int:
        """Acknowledge processed entries; returns how many were pending."""
        ...

    async def claim(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Delivery[T]]: ...

    async def pending_count(self, group: str) -> int: ...

    async def length(self) -> int: ...

    async def recent(self, count: int, *, before: str | None = None) -> list[Delivery[T]]:
        """The newest ``count`` entries (older than the id ``before``, to page further back),
        newest first (XREVRANGE), outside any consumer group: a read for displays (the
        dashboard's price line) that acks and claims nothing."""
        ...


class FillSubscription(Protocol):
    """Fills announced on ``fills_channel`` while subscribed; missed ones are not replayed."""

    async def get(self, wait_s: float) -> Fill | None:
        """The next announced fill, or None after ``wait_s`` seconds."""
        ...


class EventBus(Protocol):
    """``events:fills`` + ``fills_channel``, ``events:bars`` and ``events:alerts``.

    ``publish_fills`` is what the listener calls after the ledger commit (invariant 3): it
    appends to the durable stream first, then announces on the channel; a notification is a hint
    for live displays, consumers that must not miss a fill read the stream.
    """

    @property
    def fills(self) -> EventStream[Fill]: ...

    @property
    def bars(self) -> EventStream[Bar]: ...

    @property
    def alerts(self) -> EventStream[Alert]:
        """``events:alerts``: what the listener raised for the owner (forced fills, mismatches)."""
        ...

    async def alert(self, alert: Alert) -> None: ...

    async def publish_fills(
        self, fills: Sequence[Fill], *, announced: Mapping[str, int] | None = None
    ) -> list[str]:
        """Announce each fill once, whoever offers it: a fill among the last
        :data:`ANNOUNCED_KEEP` announced is skipped, its entry id in the reply ``""``.
        ``announced``: per ledger table, the highest row id announced once these are (merged,
        per table the higher, atomically with the entries, for :meth:`announced`)."""
        ...

    async def announced(self) -> dict[str, int]:
        """The ``announced`` mark of the newest publish; {} when the stream has none."""
        ...

    async def notify_fills(self, fills: Sequence[Fill]) -> int:
        """Fire-and-forget announcement only; returns how many subscribers received it."""
        ...

    def subscribe_fills(self) -> AbstractAsyncContextManager[FillSubscription]: ...


class CommandStreams(Protocol):
    """``commands:{bot_id}``: the owner's commands to each bot, a durable stream per bot.

    The issuer publishes; the bot reads it through its consumer group (created at the start of
    the stream, so a bot that was down gets every command it has not acknowledged when it
    starts), applies each in order and acknowledges it."""

    def commands(self, bot_id: str) -> EventStream[ControlCommand]: ...


# ---------------------------------------------------------------------------------------------
# Spool


class SpoolError(Exception):
    """Base of the spool's errors."""


class SpoolFull(SpoolError):
    """The spool is at its bound; nothing of the refused batch was written.

    The caller must stop acknowledging and reading fills from the venue until the database is
    back and the spool drains (the venue keeps them, and the REST gap-fill recovers them):
    dropping a fill here would break invariant 2.
    """

    def __init__(self, records: int, bytes_: int, limit: str) -> None:
        self.records = records
        self.bytes = bytes_
        self.limit = limit
        super().__init__(
            f"fill spool full ({limit}; holding {records} records, {bytes_} bytes): stop "
            "reading and acking fills from the venue until the database is back and it drains"
        )


class SpoolCorrupt(SpoolError):
    """Damage that is not a torn tail (an earlier record is bad): refuse rather than guess."""


@dataclass(frozen=True, slots=True)
class SpoolDepth:
    records: int
    bytes: int


class SpoolBatch(Protocol):
    """Fills handed out by ``drain``; they leave the spool only when ``commit`` is called."""

    @property
    def fills(self) -> tuple[Fill, ...]: ...

    def commit(self) -> None: ...


class FillSpool(Protocol):
    """Bounded durable queue of fills for while the database is down (invariant 3).

    Synchronous (file I/O and fsync): async callers run ``append`` in a thread when latency
    matters. ``append`` returns only when the batch is durable, or raises :class:`SpoolFull`.
    ``drain`` yields batches oldest first; a batch is removed only by its ``commit`` after the
    ledger write committed, and the drain stops at a batch left uncommitted, so a crash mid-drain
    replays that batch (the idempotent fill writer drops the duplicates).
    """

    def append(self, fills: Sequence[Fill]) -> None: ...

    def drain(self, max_records: int = 500) -> Iterator[SpoolBatch]: ...

    def depth(self) -> SpoolDepth: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# Dead letters


class DeadLetterStore(Protocol):
    """Where rows that cannot be recorded go, each with its raw payload and reason (append-only,
    durable when ``put`` returns). Synchronous like the spool; async callers may use a thread."""

    def put(self, letters: Sequence[DeadLetter]) -> None: ...

    def read(self) -> list[DeadLetter]: ...

    def count(self) -> int: ...
