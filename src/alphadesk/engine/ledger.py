"""The fill writer: the only code that inserts fills, and keeper of the position projection.

Invariant 1 (single writer, exactly once) lives here and in the store's unique key: a batch is
inserted in one transaction with insert-if-absent on (venue, account, exec_id), and the result
says which fills were new and which were already there (earlier batches, repeats in the same
batch, another writer). Only *new* fills then move the projection in ``trading.positions``, after
the commit, so replaying a batch can never double-count a position.

The projection is derived data and is kept correct without trusting that there is only one
writer process: each row records how many fills it has folded (``fill_count``) and the newest
one (``last_exec_time``/``last_exec_id``). New fills that sort after that mark are applied
incrementally with a compare-and-set on ``fill_count``; a fill that arrives out of order (REST
gap-fill of an older execution), a missing row, or a lost compare-and-set rebuilds the row from
the ledger itself, which only ever replaces a row that folded fewer fills. The writer remembers
the rows it saved, so the usual write costs no read of ``positions``: if another process moved a
row meanwhile, the compare-and-set fails and the row is rebuilt.

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
from datetime import datetime
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, fill_from_mapping
from alphadesk.domain.positions import Position, fold
from alphadesk.engine.ports import LedgerStore, PositionRecord, PositionSave, WriteResult

PositionKey = tuple[str, str]
_log = logging.getLogger(__name__)


def _order(fill: Fill) -> tuple[datetime, str]:
    """Fold order, the same as :func:`alphadesk.domain.positions.fold` uses."""
    return (fill.exec_time, fill.exec_id)


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


class FillWriter:
    """Writes fills exactly once and keeps ``trading.positions`` in step with them.

    One instance per process; writes are serialised so the projection is updated in the order
    batches commit.
    """

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self._saved: dict[PositionKey, PositionRecord] = {}
        self._dirty: set[PositionKey] = set()

    @property
    def store(self) -> LedgerStore:
        return self._store

    async def write(self, fills: Sequence[Fill]) -> WriteResult:
        """Insert ``fills`` in one transaction; returns which were new and which duplicates.

        When this returns the batch is committed durably and the projection includes it.
        """
        batch = validated(fills)
        if not batch:
            return WriteResult((), ())
        async with self._lock:
            result = await self._store.insert_fills(batch)
            new = set(result.inserted)
            inserted = [f for f in batch if f.key in new]
            try:
                if self._dirty:
                    await self._rebuild(sorted(self._dirty))
                    self._dirty.clear()
                if inserted:
                    await self._project(inserted)
            except Exception:
                keys = {(f.bot_id, f.symbol) for f in inserted}
                self._dirty.update(keys)
                for key in keys:
                    self._saved.pop(key, None)
                _log.exception(
                    "fills committed, position projection of %s not updated; rebuilding it on "
                    "the next write",
                    sorted(keys),
                )
            return result

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
        records = {key: self._saved[key] for key in groups if key in self._saved}
        saves: list[PositionSave] = []
        rebuild: list[PositionKey] = [key for key in groups if key not in self._saved]
        for key, group in groups.items():
            if key not in records:
                continue
            group.sort(key=_order)
            record = records.get(key)
            if (
                record is None
                or record.last_exec_time is None
                or _order(group[0]) <= (record.last_exec_time, record.last_exec_id)
            ):
                rebuild.append(key)
                continue
            position = record.position
            for fill in group:
                position = position.apply(fill)
            last = group[-1]
            new = PositionRecord(
                position, record.fill_count + len(group), last.exec_time, last.exec_id
            )
            saves.append(PositionSave(new, expected_count=record.fill_count))
        written = await self._store.save_positions(saves) if saves else set()
        for save in saves:
            key = (save.record.position.bot_id, save.record.position.symbol)
            if key in written:
                self._saved[key] = save.record
            else:
                rebuild.append(key)
        if rebuild:
            await self._rebuild(rebuild)

    async def _rebuild(self, keys: list[PositionKey]) -> None:
        saves: list[PositionSave] = []
        for bot_id, symbol in keys:
            fills = await self._store.read_fills(bot_id=bot_id, symbol=symbol)
            if not fills:
                continue
            last = max(fills, key=_order)
            record = PositionRecord(
                fold(bot_id, symbol, fills), len(fills), last.exec_time, last.exec_id
            )
            saves.append(PositionSave(record, expected_count=None))
        written = await self._store.save_positions(saves) if saves else set()
        for key in keys:
            self._saved.pop(key, None)
        for save in saves:
            key = (save.record.position.bot_id, save.record.position.symbol)
            if key in written:
                self._saved[key] = save.record
