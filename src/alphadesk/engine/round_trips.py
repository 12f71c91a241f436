"""The round-trip keeper: ``trading.completed_trades`` follows the ledger, whoever records fills.

Round trips are derived data, like ``trading.positions``: FIFO pairs of an entry fill and the exit
fill that closed it (:func:`alphadesk.domain.roundtrips.match`, in the one fold order), each with
gross PnL, fees, funding, net PnL, holding time and the exit's reason. The recorder calls
:meth:`RoundTripKeeper.on_fills` after projecting and announcing a commit, with its new fills;
the only per-fill work is grouping them by (bot, symbol). A key whose kept matcher can be trusted
(the new fills sort after what it folded, and the ledger holds exactly those fills more: one
indexed count) folds just the new fills and adds the round trips they close. Otherwise (a first
touch, a late fill, a fill another path stored) the key is matched from its whole history and the
round trips that closed at or after its earliest new fill are rewritten (a fill can change only
round trips that close at or after it in fold order); after another path's fill, all of them.
Rows are keyed by a deterministic ``trade_id`` (bot, symbol, entry and exit exec ids), so a
replay, a duplicate or a second process writing the same key changes nothing.

A failure here never fails the fill write: the key is kept, with the earliest time it owes, and
redone on the next pass (as the projection does with its dirty keys); ``alphadesk trades
rebuild`` recomputes a bot's rows from the ledger in one transaction.

Attribution (invariant 5, and issue 14 item 3): the account decides the bot. A fill the desk did
not tag on a bot's own key (an exchange-side take-profit, stop-loss or trailing stop, or a person's
manual order) keeps that bot's ``bot_id``, so it closes the bot's position and round trip; its
``close_reason`` (the round trip's ``exit_reason``) says ``take_profit``/``stop_loss``/
``trailing`` or ``manual`` (see :mod:`alphadesk.adapters.bybit.parse`).

Bybit's closed-PnL records are set beside the round trips by :func:`attach_closed_pnl`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from alphadesk.domain.allocation import share
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import FoldKey, fold_key, in_fold_order
from alphadesk.domain.roundtrips import FifoMatcher, RoundTrip, match
from alphadesk.engine.ports import FillStore, RoundTripStore, StoredRoundTrip, VenuePnl

log = logging.getLogger(__name__)

Key = tuple[str, str]
#: How far a round trip's close may lie outside a venue record's created..updated span and still
#: be matched by time (only for closes the ledger knows no order id of).
CLOSE_TIME_SLACK = timedelta(seconds=1)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two "redo from" marks; None (the whole history) wins."""
    if a is None or b is None:
        return None
    return min(a, b)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    keys: int
    fills: int
    round_trips: int


@dataclass(slots=True)
class _Tail:
    """Where this keeper's matcher of one key stands: its open lots, the newest fill folded
    (fold order) and how many of the key's executions it has folded."""

    matcher: FifoMatcher
    last: FoldKey
    count: int


class RoundTripKeeper:
    """Keeps ``trading.completed_trades`` (source ``ledger``) level with the ledger's fills.

    Per key it keeps the FIFO matcher it last used, so a pass whose new fills all sort after
    what it folded, while the ledger holds exactly those fills more than it folded (one count),
    costs the new fills only; anything else (a first touch, a late fill, a fill another path
    stored, a failed pass) matches the key from its whole history in the ledger.
    """

    def __init__(self, fills: FillStore, trips: RoundTripStore) -> None:
        self._fills = fills
        self._trips = trips
        # Keys whose last pass failed, with the earliest close they owe (None: all of it).
        self._owed: dict[Key, datetime | None] = {}
        self._tails: dict[Key, _Tail] = {}

    @property
    def owed(self) -> dict[Key, datetime | None]:
        """Keys waiting for the next pass after a failure."""
        return dict(self._owed)

    async def on_fills(self, fills: Sequence[Fill]) -> None:
        """Bring the round trips of every key ``fills`` (new to the ledger) touch, and of keys a
        failed pass left owed, level with the ledger. Never raises but for cancellation."""
        since: dict[Key, datetime | None] = dict(self._owed)
        new: dict[Key, list[Fill]] = defaultdict(list)
        self._owed.clear()
        for fill in fills:
            key = (fill.bot_id, fill.symbol)
            new[key].append(fill)
            since[key] = _earlier(since[key], fill.exec_time) if key in since else fill.exec_time
        pending = sorted(since)
        try:
            while pending:
                key = pending[0]
                try:
                    done = await self._extend(key, new.get(key, []))
                    if done is not True:  # None: the whole key, whatever the new fills' times
                        await self.refresh(key, since[key] if done is False else None)
                except Exception as exc:  # never fails the fill write: redone next pass
                    log.warning("round trips of %s/%s not written (redone on the next pass): "
                                "%s: %s", key[0], key[1], type(exc).__name__, exc)  # fmt: skip
                    self._tails.pop(key, None)
                    self._owed[key] = _earlier(self._owed.get(key, since[key]), since[key])
                pending.pop(0)
        except asyncio.CancelledError:
            for key in pending:
                self._tails.pop(key, None)
                self._owed[key] = _earlier(self._owed.get(key, since[key]), since[key])
            raise

    async def _extend(self, key: Key, fills: list[Fill]) -> bool | None:
        """Fold ``fills`` into the key's kept matcher and write the round trips they close
        (True). False when there is no kept matcher or a fill sorts before what it folded; None
        when the ledger holds fills it never saw (the key must be matched afresh, whole)."""
        tail = self._tails.get(key)
        if tail is None or not fills:
            return False
        ordered = in_fold_order(fills)
        if fold_key(ordered[0]) <= tail.last:
            return False  # a late fill: the pairs after it change
        stored = await self._trips.count_fills(*key)
        if stored != tail.count + len(ordered):
            del self._tails[key]  # another path stored fills of this key
            return None
        self._tails.pop(key)  # until written: a failure leaves no half-advanced matcher
        trips = [trip for fill in ordered for trip in tail.matcher.add(fill)]
        if trips:
            await self._trips.add_round_trips(trips)
        self._tails[key] = _Tail(tail.matcher, fold_key(ordered[-1]), stored)
        return True

    async def refresh(self, key: Key, since: datetime | None) -> int:
        """Match ``key`` from the ledger and rewrite its round trips closed at or after
        ``since`` (all when None); returns the rows written."""
        bot_id, symbol = key
        self._tails.pop(key, None)
        fills = in_fold_order(await self._fills.read_fills(bot_id=bot_id, symbol=symbol))
        matcher = FifoMatcher(bot_id, symbol)
        trips = [trip for fill in fills for trip in matcher.add(fill)]
        if since is not None:
            trips = [t for t in trips if t.exit_time >= since]
        written = await self._trips.replace_since(bot_id, symbol, since, trips)
        if fills:
            self._tails[key] = _Tail(matcher, fold_key(fills[-1]), len(fills))
        return written

    async def rebuild(
        self,
        bot_id: str | None = None,
        *,
        progress: Callable[[int, int, Key, int], None] | None = None,
    ) -> RebuildResult:
        """Recompute every round trip of ``bot_id`` (every bot when None) from the ledger and
        replace its ledger rows in one transaction. ``progress(done, total, key, trips)`` is
        called after each (bot, symbol) is matched."""
        fills = await self._fills.read_fills(bot_id=bot_id)
        groups: dict[Key, list[Fill]] = defaultdict(list)
        for fill in fills:
            groups[(fill.bot_id, fill.symbol)].append(fill)
        trips: list[RoundTrip] = []
        for done, key in enumerate(sorted(groups), 1):
            found = match(key[0], key[1], groups[key])
            trips.extend(found)
            if progress is not None:
                progress(done, len(groups), key, len(found))
        written = await self._trips.replace_all(bot_id, trips)
        for kept in (self._owed, self._tails):
            for key in [k for k in kept if bot_id is None or k[0] == bot_id]:
                del kept[key]
        return RebuildResult(keys=len(groups), fills=len(fills), round_trips=written)


# --- the venue's closed PnL beside the ledger's round trips ---------------------------------------


class ClosedPnlRecord(Protocol):
    """What :func:`attach_closed_pnl` reads of a venue record (Bybit's ``/v5/position/closed-pnl``
    row, :class:`alphadesk.adapters.bybit.models.ClosedPnl`): ``side`` is the closing side and
    ``closed_pnl`` is net of the open and close fees, without funding."""

    @property
    def symbol(self) -> str: ...

    @property
    def order_id(self) -> str: ...

    @property
    def side(self) -> Side: ...

    @property
    def closed_pnl(self) -> Decimal: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class AttachResult:
    matched: int
    round_trips: int
    unmatched: tuple[str, ...]
    """Order ids of the records no round trip matched (not closed in the ledger yet, or
    another bot's)."""


def venue_shares(trips: Sequence[StoredRoundTrip], closed_pnl: Decimal) -> list[VenuePnl]:
    """Split one venue record over the round trips of its closing order, pro rata to quantity
    (the last takes the remainder, so the shares sum to the record exactly); each share's
    difference is ``share - (gross_pnl - fees)``, the ledger's figure on the venue's terms."""
    ordered = sorted(trips, key=lambda t: (t.exit_time, t.trade_id))
    whole = sum((t.qty for t in ordered), Decimal(0))
    left = closed_pnl
    out: list[VenuePnl] = []
    for index, trip in enumerate(ordered):
        part = left if index == len(ordered) - 1 else share(closed_pnl, trip.qty, whole)
        left -= part
        out.append(VenuePnl(trip.trade_id, part, part - (trip.gross_pnl - trip.fees)))
    return out


async def attach_closed_pnl(
    store: RoundTripStore, bot_id: str, records: Iterable[ClosedPnlRecord]
) -> AttachResult:
    """Store each venue closed-PnL record beside the ledger round trips of the same close.

    The caller resolves the account to its bot (the account decides, as for fills). Matching
    rule: the round trips of ``bot_id`` on the record's ``symbol`` whose closing fill belongs to
    the record's ``order_id``; when none does, the round trips on that symbol whose closing fill
    has no order id in the ledger, whose exit side is the record's side and whose close lies in
    [createdTime - 1 s, updatedTime + 1 s]. A record that matches nothing is reported, not
    stored. Idempotent: attaching the same records again writes the same values.
    """
    shares: list[VenuePnl] = []
    unmatched: list[str] = []
    matched = 0
    for record in records:
        trips = await store.list_round_trips(
            bot_id=bot_id, symbol=record.symbol, exit_order_id=record.order_id
        )
        if not trips:
            low = record.created_at - CLOSE_TIME_SLACK
            high = record.updated_at + CLOSE_TIME_SLACK
            trips = [
                t for t in await store.list_round_trips(
                    bot_id=bot_id, symbol=record.symbol, exit_order_id=""
                )
                if t.entry_side is record.side.opposite and low <= t.exit_time <= high
            ]  # fmt: skip
        if not trips:
            unmatched.append(record.order_id)
            continue
        matched += 1
        shares.extend(venue_shares(trips, record.closed_pnl))
    written = await store.set_venue_pnl(shares) if shares else 0
    return AttachResult(matched=matched, round_trips=written, unmatched=tuple(unmatched))
