"""The fill writer: the only code that inserts fills, and keeper of the position projection.

Invariant 1 (single writer, exactly once) lives here and in the store's unique key: a batch is
inserted in one transaction with insert-if-absent on (venue, account, exec_id), and the result
says which fills were new and which were already there (earlier batches, repeats in the same
batch, another writer). Only *new* fills then move the projection in ``trading.positions``, after
the commit, so replaying a batch can never double-count a position.

The projection is derived data and is kept correct without trusting that there is only one
writer process: each row records how many fills it has folded (``fill_count``) and the newest
one (``last_exec_time``/``last_exec_id``). New fills are folded in with a compare-and-set on
``fill_count``. The writer remembers the rows it saved and the newest folds of each
(:class:`~alphadesk.engine.fold_tail.FoldTail`), so the usual write costs no read of
``positions``, and a fill that arrives a little out of order (reordered frames, same-millisecond
fills) is refolded from the kept position just before it. A fill older than every kept fold (a
gap-fill page from long ago), a missing row, or a lost compare-and-set (another process moved
the row) rebuilds the row from the ledger itself. A rebuild notes the row's ``fill_count`` before
it reads the fills and saves with a compare-and-set on that count: a row another writer saved in
between (perhaps with a fill committed after this read) is read again rather than overwritten.
Every save raises the count, so an unchanged count means an unchanged row.

A row this process has not saved yet is rebuilt from the ledger the first time a new fill touches
it, rather than trusted: a stored row can be stale (the process that wrote the fills died, or its
projection update failed, between the commit and the row update), and an incremental update on a
stale row would carry the error forever. A projection failure after the commit never fails the
write itself (the fills are durable; the row is derived data): the keys are marked dirty and
rebuilt on the next write. The core sees only
the :class:`~alphadesk.engine.ports.LedgerStore` port; PostgreSQL and SQLite adapters implement
it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, FillKey, fill_from_mapping
from alphadesk.domain.positions import Position
from alphadesk.engine.fold_tail import FoldTail, fold_key
from alphadesk.engine.ports import LedgerStore, PositionRecord, PositionSave, WriteResult

PositionKey = tuple[str, str]
_REBUILD_READS = 20  # each refusal means another writer saved the row: it made progress
_log = logging.getLogger(__name__)


def validated(fills: Iterable[object]) -> list[Fill]:
    """Refuse anything that is not a constructed (hence validated) :class:`Fill`."""
    checked: list[Fill] = []
    for index, item in enumerate(fills):
        if not isinstance(item, Fill):
            raise InvalidField(
                f"fills[{index}]", item, "must be a Fill; build rows with fill_from_mapping"
            )
        checked.append(item)
    return checked


@dataclass(frozen=True, slots=True)
class Committed:
    """A batch the ledger holds durably, and the fills in it that were new (each once, in the
    batch's order): what the projection still has to fold in."""

    result: WriteResult
    inserted: tuple[Fill, ...]
    _keys: frozenset[FillKey] | None = field(default=None, init=False, repr=False, compare=False)

    def keys(self) -> frozenset[FillKey]:
        """The new fills' keys, made once and only when asked: every rebuild while this commit
        is unprojected leaves these fills out, and most commits never meet a rebuild."""
        if self._keys is None:
            object.__setattr__(self, "_keys", frozenset(f.key for f in self.inserted))
        assert self._keys is not None
        return self._keys


class FillWriter:
    """Writes fills exactly once and keeps ``trading.positions`` in step with them.

    One instance per process. A write is two steps, :meth:`commit` then :meth:`project`; a
    caller that wants the next batch's commit to overlap the previous batch's projection (the
    listener does) calls them itself. Commits are serialised, and so are projections, each in
    the order the batches committed.
    """

    def __init__(self, store: LedgerStore, *, tail_limit: int = 256) -> None:
        self._store = store
        self._insert_lock = asyncio.Lock()
        self._lock = asyncio.Lock()  # the projection's state: _saved, _tails, _dirty
        # Commits not yet projected. A rebuild reads the ledger, which already holds their
        # fills; their own projection folds them in later, so the rebuild leaves them out.
        self._unprojected: list[Committed] = []
        self._tail_limit = tail_limit
        self._saved: dict[PositionKey, PositionRecord] = {}
        self._absent: set[PositionKey] = set()  # keys read from the store and found without a row
        self._tails: dict[PositionKey, FoldTail] = {}
        self._dirty: set[PositionKey] = set()

    @property
    def store(self) -> LedgerStore:
        return self._store

    async def write(self, fills: Sequence[Fill]) -> WriteResult:
        """Insert ``fills`` in one transaction; returns which were new and which duplicates.

        When this returns the batch is committed durably and the projection includes it.
        """
        committed = await self.commit(fills)
        try:
            await self.project(committed)
        except asyncio.CancelledError:
            self.owe(committed)
            raise
        return committed.result

    async def commit(self, fills: Sequence[Fill]) -> Committed:
        """Insert ``fills`` in one transaction, durably committed when this returns. The
        projection is still owed: call :meth:`project` with the result (or :meth:`owe` when that
        cannot happen), before any later commit's projection."""
        batch = validated(fills)
        if not batch:
            return Committed(WriteResult((), ()), ())
        async with self._insert_lock:
            result = await self._store.insert_fills(batch)
            new = set(result.inserted)
            inserted: list[Fill] = []
            for fill in batch:
                if fill.key in new:
                    new.discard(fill.key)  # a repeat inside the batch was inserted, folds once
                    inserted.append(fill)
            committed = Committed(result, tuple(inserted))
            if inserted:  # registered before any rebuild can read these rows
                self._unprojected.append(committed)
        return committed

    async def project(self, committed: Committed) -> None:
        """Fold a commit's new fills into the projection. Never raises for a failed update: the
        keys are marked and rebuilt from the ledger on the next projection."""
        async with self._lock:
            self._settled(committed)
            inserted = list(committed.inserted)
            try:
                if self._dirty:
                    rebuilt = set(self._dirty)
                    self._dirty.clear()  # a key whose rebuild gives up is marked again
                    try:
                        await self._rebuild(sorted(rebuilt))
                    except BaseException:
                        self._dirty |= rebuilt
                        raise
                    # the rebuilt rows were read with this commit's fills in them
                    inserted = [f for f in inserted if (f.bot_id, f.symbol) not in rebuilt]
                if inserted:
                    await self._project(inserted)
            except Exception:
                keys = self.owe(committed)
                _log.exception(
                    "fills committed, position projection of %s not updated; rebuilding it on "
                    "the next write",
                    sorted(keys),
                )

    def owe(self, committed: Committed) -> set[PositionKey]:
        """A commit whose fills will not be folded in: its rows are rebuilt from the ledger on
        the next projection instead."""
        self._settled(committed)
        keys = {(f.bot_id, f.symbol) for f in committed.inserted}
        self._dirty.update(keys)
        for key in keys:
            self._forget(key)
        return keys

    async def write_one(self, fill: Fill) -> WriteResult:
        return await self.write([fill])

    async def write_mappings(self, rows: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Write fills given as mappings (a spool, a replay); each is validated as a Fill first,
        and one bad row rejects the whole batch with an error naming its field and value."""
        return await self.write([fill_from_mapping(dict(row)) for row in rows])

    async def read_fills(
        self,
        *,
        bot_id: str | None = None,
        symbol: str | None = None,
        venue: str | None = None,
        account: str | None = None,
        since: datetime | None = None,
    ) -> list[Fill]:
        return await self._store.read_fills(
            bot_id=bot_id, symbol=symbol, venue=venue, account=account, since=since
        )

    async def last_exec_time(self, venue: str, account: str) -> datetime | None:
        """Where the listener's gap-fill resumes: the newest execution recorded for the account."""
        return await self._store.last_exec_time(venue, account)

    async def records(self, keys: Sequence[PositionKey]) -> dict[PositionKey, PositionRecord]:
        """The projection rows of ``keys``: those this process saved from memory (it is the
        single writer of fills, and a row moved by anyone else fails its next compare-and-set
        and is rebuilt), the rest read from the store."""
        known = {key: self._saved[key] for key in keys if key in self._saved}
        missing = [key for key in keys if key not in known and key not in self._absent]
        if missing:
            found = await self._store.load_positions(missing)
            known.update(found)
            # No row yet stays so until this process writes one (it is the single writer): the
            # venue's position snapshots ask for the same empty keys (the account's unknown
            # bot) on every batch, and each ask was a database round trip.
            self._absent.update(key for key in missing if key not in found)
        return known

    async def fills_after(self, marks: Mapping[str, int]) -> list[Fill]:
        return await self._store.fills_after(marks)

    async def high_ids(self) -> dict[str, int]:
        return await self._store.high_ids()

    async def positions(self, keys: Sequence[PositionKey]) -> dict[PositionKey, Position]:
        records = await self._store.load_positions(keys)
        return {key: record.position for key, record in records.items()}

    async def rebuild_positions(self, keys: Iterable[PositionKey]) -> dict[PositionKey, Position]:
        """Refold the given (bot_id, symbol) rows from the ledger; returns the stored positions."""
        wanted = list(dict.fromkeys(keys))
        async with self._lock:
            await self._rebuild(wanted)
        return await self.positions(wanted)

    async def _project(self, inserted: list[Fill]) -> None:
        groups: dict[PositionKey, list[Fill]] = defaultdict(list)
        for fill in inserted:
            groups[(fill.bot_id, fill.symbol)].append(fill)
        saves: list[PositionSave] = []
        rebuild: list[PositionKey] = []
        for key, group in groups.items():
            record, tail = self._saved.get(key), self._tails.get(key)
            if record is None or tail is None or not tail.covers(min(map(fold_key, group))):
                rebuild.append(key)
                continue
            refold = tail.fold_in(group)
            new = PositionRecord(
                refold.position,
                record.fill_count + len(group),
                refold.newest.exec_time,
                refold.newest.exec_id,
            )
            saves.append(PositionSave(new, expected_count=record.fill_count))
        written = await self._store.save_positions(saves) if saves else set()
        for save in saves:
            key = (save.record.position.bot_id, save.record.position.symbol)
            if key in written:
                self._saved[key] = save.record
            else:  # another writer moved the row: its fills are not in our tail
                self._forget(key)
                rebuild.append(key)
        if rebuild:
            await self._rebuild(rebuild)

    def forget(self, keys: Iterable[PositionKey]) -> None:
        """Rows another path moved (it stored fills this process never folded): read them from
        the store next time instead of trusting what this process saved."""
        for key in keys:
            self._forget(key)

    def _forget(self, key: PositionKey) -> None:
        self._absent.discard(key)
        self._saved.pop(key, None)
        self._tails.pop(key, None)

    async def _rebuild(self, keys: list[PositionKey]) -> None:
        """Refold rows from the ledger. A save is refused when another writer saved the row
        after this one read it; the refused keys are read again. Still refused after many
        reads, they are left to the next projection, which rebuilds them first."""
        pending = keys
        for _ in range(_REBUILD_READS):
            pending = await self._rebuild_once(pending)
            if not pending:
                return
        self._dirty.update(pending)
        _log.warning("position rows %s kept changing under their rebuild; retried next", pending)

    def _settled(self, committed: Committed) -> None:
        """From now on a rebuild folds this commit's fills in with the rest of the ledger."""
        for i, pending in enumerate(self._unprojected):
            if pending is committed:
                del self._unprojected[i]
                return

    async def _read_settled(self, bot_id: str, symbol: str) -> list[Fill]:
        """The row's fills, less those of commits still to be projected. Read while no insert is
        in flight, so every fill read is either settled or registered as unprojected."""
        async with self._insert_lock:
            fills = await self._store.read_fills(bot_id=bot_id, symbol=symbol)
            later = [c.keys() for c in self._unprojected]
        if not later:
            return fills
        return [f for f in fills if not any(f.key in keys for keys in later)]

    async def _rebuild_once(self, keys: list[PositionKey]) -> list[PositionKey]:
        """One read and save of each row; returns the keys whose save was refused."""
        saves: list[PositionSave] = []
        tails: dict[PositionKey, FoldTail] = {}
        # the rows as they stand before the fills are read: each save below is a compare-and-set
        # on this count (0: no row yet), so it fails if anyone saved the row since
        stored = await self._store.load_positions(keys)
        for bot_id, symbol in keys:
            self._forget((bot_id, symbol))
            fills = await self._read_settled(bot_id, symbol)
            if not fills:
                continue
            tail = FoldTail.of_history(bot_id, symbol, fills, limit=self._tail_limit)
            newest = max(fills, key=fold_key)
            record = PositionRecord(tail.position, len(fills), newest.exec_time, newest.exec_id)
            before = stored.get((bot_id, symbol))
            saves.append(PositionSave(record, expected_count=before.fill_count if before else 0))
            tails[(bot_id, symbol)] = tail
        written = await self._store.save_positions(saves) if saves else set()
        refused: list[PositionKey] = []
        for save in saves:
            key = (save.record.position.bot_id, save.record.position.symbol)
            if key in written:
                self._saved[key] = save.record
                self._tails[key] = tails[key]
            else:
                refused.append(key)
        return refused
