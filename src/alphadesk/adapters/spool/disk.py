"""The on-disk fill spool: where fills wait while the database is down (invariant 3).

Layout of the directory: numbered append-only segment files (``000000000001.seg`` …), a
``cursor`` file naming the first record not yet committed to the ledger, and a ``lock`` file
held with ``flock`` so two processes never write one spool.

Durability: ``append`` writes the whole batch with one ``write`` and ``fsync``s before it
returns; creating a segment and replacing the cursor also ``fsync`` the directory, so a returned
``append`` survives a process kill and a power loss. A kill mid-``write`` can leave a torn record
only at the end of the newest segment (older segments were complete and synced before the next
one was created): on open it is found by its length and CRC, cut off and reported (``recovered``
and a warning). A bad record anywhere else is real damage and raises :class:`SpoolCorrupt`
instead of dropping what follows it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from alphadesk.adapters.spool.fill_codec import decode_fill, encode_fill
from alphadesk.adapters.spool.framing import BadRecord, Record, frame, read_record
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import SpoolCorrupt, SpoolDepth, SpoolError, SpoolFull

log = logging.getLogger(__name__)

_SUFFIX = ".seg"
_CURSOR = "cursor"


@dataclass(frozen=True, slots=True)
class TornTail:
    """A torn record cut off the end of a segment when the spool was opened."""

    path: Path
    offset: int
    dropped_bytes: int
    reason: str


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    size: int


@dataclass(frozen=True, slots=True, order=True)
class _Position:
    segment: int
    offset: int


class DiskBatch:
    """A drained batch; :meth:`commit` removes it from the spool (after the ledger commit)."""

    def __init__(
        self,
        spool: DiskSpool,
        fills: tuple[Fill, ...],
        start: _Position,
        end: _Position,
        size: int,
    ) -> None:
        self._spool = spool
        self._fills = fills
        self.start = start
        self.end = end
        self.size = size
        self.committed = False

    @property
    def fills(self) -> tuple[Fill, ...]:
        return self._fills

    def commit(self) -> None:
        if not self.committed:
            self._spool._commit(self)
            self.committed = True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskSpool:
    """Bounded by ``max_records`` and ``max_bytes`` of records not yet committed."""

    def __init__(
        self,
        directory: Path | str,
        *,
        max_records: int = 1_000_000,
        max_bytes: int = 512 * 1024 * 1024,
        segment_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        for name, value in (
            ("max_records", max_records),
            ("max_bytes", max_bytes),
            ("segment_bytes", segment_bytes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidField(f"spool.{name}", value, "must be an int > 0")
        self.directory = Path(directory)
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.recovered: list[TornTail] = []
        self._lock = threading.Lock()
        self._closed = False
        self._records = 0
        self._bytes = 0
        self._fd: int | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise SpoolError(f"spool {self.directory} is in use by another process") from None
            raise
        try:
            self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise

    # -- opening ------------------------------------------------------------------------------

    def _open(self) -> None:
        self._cursor = self._read_cursor()
        segments = []
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                number = int(path.stem)
            except ValueError:
                continue
            if number < self._cursor.segment:
                path.unlink()  # committed; the crash came between cursor write and unlink
                continue
            segments.append(_Segment(number, path, path.stat().st_size))
        segments.sort(key=lambda s: s.number)
        if segments and segments[0].number != self._cursor.segment:
            self._cursor = _Position(segments[0].number, 0)
        self._segments = segments
        for index, segment in enumerate(segments):
            start = self._cursor.offset if segment.number == self._cursor.segment else 0
            self._scan(segment, start, last=index == len(segments) - 1)

    def _read_cursor(self) -> _Position:
        path = self.directory / _CURSOR
        try:
            data = json.loads(path.read_bytes())
            segment, offset = data["segment"], data["offset"]
            if not (isinstance(segment, int) and isinstance(offset, int)):
                raise ValueError("not ints")
        except FileNotFoundError:
            return _Position(1, 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise SpoolCorrupt(f"{path}: unreadable cursor ({exc})") from None
        return _Position(segment, offset)

    def _scan(self, segment: _Segment, start: int, *, last: bool) -> None:
        end = start
        with segment.path.open("rb") as stream:
            stream.seek(start)
            while True:
                try:
                    record = read_record(stream, end, segment.size)
                except BadRecord as bad:
                    if not last:
                        raise SpoolCorrupt(
                            f"{segment.path}: {bad}; an older segment is damaged, "
                            "refusing to drop the records after it"
                        ) from None
                    self._cut_torn_tail(segment, bad)
                    break
                if record is None:
                    break
                end = record.end
                self._records += 1
                self._bytes += record.end - record.offset

    def _cut_torn_tail(self, segment: _Segment, bad: BadRecord) -> None:
        dropped = segment.size - bad.offset
        log.warning(
            "fill spool: torn record at the end of %s (byte %d, %s): cutting %d bytes; records "
            "before it are intact",
            segment.path,
            bad.offset,
            bad.reason,
            dropped,
        )
        with segment.path.open("r+b") as stream:
            stream.truncate(bad.offset)
            stream.flush()
            os.fsync(stream.fileno())
        self.recovered.append(TornTail(segment.path, bad.offset, dropped, bad.reason))
        segment.size = bad.offset

    # -- appending ----------------------------------------------------------------------------

    def append(self, fills: Sequence[Fill]) -> None:
        """Durably add ``fills`` (all or none); raises :class:`SpoolFull` at the bound.

        On SpoolFull the caller must stop acking and reading fills from the venue rather than
        drop them; the venue's REST history gives them back once the spool has drained.
        """
        if not fills:
            return
        data = b"".join(frame(encode_fill(fill)) for fill in fills)
        with self._lock:
            self._check_open()
            if self._records + len(fills) > self.max_records:
                raise SpoolFull(self._records, self._bytes, f"max_records={self.max_records}")
            if self._bytes + len(data) > self.max_bytes:
                raise SpoolFull(self._records, self._bytes, f"max_bytes={self.max_bytes}")
            segment, fd = self._writable()
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, segment.size)  # leave no partial batch behind a failed write
                raise
            segment.size += len(data)
            self._records += len(fills)
            self._bytes += len(data)

    def _writable(self) -> tuple[_Segment, int]:
        current = self._segments[-1] if self._segments else None
        if current is not None and current.size < self.segment_bytes:
            if self._fd is None:
                self._fd = os.open(current.path, os.O_WRONLY | os.O_APPEND)
            return current, self._fd
        self._close_fd()
        number = current.number + 1 if current is not None else self._cursor.segment
        path = self.directory / f"{number:012d}{_SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        os.fsync(self._fd)
        _fsync_dir(self.directory)
        segment = _Segment(number, path, 0)
        self._segments.append(segment)
        return segment, self._fd

    # -- draining -----------------------------------------------------------------------------

    def drain(self, max_records: int = 500) -> Iterator[DiskBatch]:
        """Batches oldest first; stops at the end, or at a batch the caller did not commit."""
        if max_records <= 0:
            raise InvalidField("max_records", max_records, "must be > 0")
        while True:
            with self._lock:
                self._check_open()
                batch = self._next_batch(max_records)
            if batch is None:
                return
            yield batch
            if not batch.committed:
                return

    def _next_batch(self, max_records: int) -> DiskBatch | None:
        position = self._cursor
        for segment in self._segments:
            if segment.number < position.segment:
                continue
            offset = position.offset if segment.number == position.segment else 0
            if offset >= segment.size:
                continue
            records = self._read(segment, offset, max_records)
            fills = tuple(self._decode(segment, record) for record in records)
            end = _Position(segment.number, records[-1].end)
            size = records[-1].end - records[0].offset
            return DiskBatch(self, fills, _Position(segment.number, offset), end, size)
        return None

    @staticmethod
    def _read(segment: _Segment, offset: int, max_records: int) -> list[Record]:
        records: list[Record] = []
        with segment.path.open("rb") as stream:
            stream.seek(offset)
            while len(records) < max_records:
                try:
                    record = read_record(stream, offset, segment.size)
                except BadRecord as bad:
                    raise SpoolCorrupt(f"{segment.path}: {bad} (changed since open)") from None
                if record is None:
                    break
                records.append(record)
                offset = record.end
        return records

    @staticmethod
    def _decode(segment: _Segment, record: Record) -> Fill:
        try:
            return decode_fill(record.payload)
        except InvalidField as exc:
            raise SpoolCorrupt(f"{segment.path} byte {record.offset}: {exc}") from exc

    def _commit(self, batch: DiskBatch) -> None:
        with self._lock:
            self._check_open()
            if batch.start != self._cursor and not (
                batch.start.offset == 0 and batch.start.segment > self._cursor.segment
            ):
                raise SpoolError("spool batches must be committed in the order drained")
            cursor = batch.end
            finished = [s for s in self._segments if s.number < cursor.segment]
            current = next(s for s in self._segments if s.number == cursor.segment)
            if cursor.offset >= current.size:
                finished.append(current)
                cursor = _Position(cursor.segment + 1, 0)
            self._write_cursor(cursor)
            self._cursor = cursor
            self._records -= len(batch.fills)
            self._bytes -= batch.size
            for segment in finished:
                if segment is self._segments[-1]:
                    self._close_fd()
                self._segments.remove(segment)
                segment.path.unlink()

    def _write_cursor(self, cursor: _Position) -> None:
        tmp = self.directory / (_CURSOR + ".tmp")
        with tmp.open("wb") as stream:
            stream.write(json.dumps({"segment": cursor.segment, "offset": cursor.offset}).encode())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, self.directory / _CURSOR)
        _fsync_dir(self.directory)

    # -- health, shutdown ---------------------------------------------------------------------

    def depth(self) -> SpoolDepth:
        with self._lock:
            return SpoolDepth(self._records, self._bytes)

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolError(f"spool {self.directory} is closed")

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_fd()
            os.close(self._lock_fd)

    def __enter__(self) -> DiskSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
