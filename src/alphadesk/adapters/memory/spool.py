"""An in-memory fill spool with the disk spool's bounds and drain/commit rules (tests, demo).

It is not durable, which is the point of a spool, so it only fits the embedded mode, where the
ledger is a local SQLite file that is down only when the whole process is.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence

from alphadesk.adapters.spool.fill_codec import encode_fill
from alphadesk.adapters.spool.framing import frame
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import SpoolDepth, SpoolError, SpoolFull


class MemoryBatch:
    def __init__(self, spool: MemorySpool, fills: tuple[Fill, ...], size: int) -> None:
        self._spool = spool
        self._fills = fills
        self.size = size
        self.committed = False

    @property
    def fills(self) -> tuple[Fill, ...]:
        return self._fills

    def commit(self) -> None:
        if not self.committed:
            self._spool._commit(self)
            self.committed = True


class MemorySpool:
    def __init__(self, *, max_records: int = 100_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        for name, value in (("max_records", max_records), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidField(f"spool.{name}", value, "must be an int > 0")
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._items: deque[tuple[Fill, int]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._closed = False

    def append(self, fills: Sequence[Fill]) -> None:
        """All or none; raises SpoolFull at the bound (stop reading the venue, never drop)."""
        sized = [(fill, len(frame(encode_fill(fill)))) for fill in fills]
        total = sum(size for _, size in sized)
        with self._lock:
            self._check_open()
            if len(self._items) + len(sized) > self.max_records:
                raise SpoolFull(len(self._items), self._bytes, f"max_records={self.max_records}")
            if self._bytes + total > self.max_bytes:
                raise SpoolFull(len(self._items), self._bytes, f"max_bytes={self.max_bytes}")
            self._items.extend(sized)
            self._bytes += total

    def drain(self, max_records: int = 500) -> Iterator[MemoryBatch]:
        if max_records <= 0:
            raise InvalidField("max_records", max_records, "must be > 0")
        while True:
            with self._lock:
                self._check_open()
                head = [self._items[i] for i in range(min(max_records, len(self._items)))]
            if not head:
                return
            batch = MemoryBatch(self, tuple(f for f, _ in head), sum(s for _, s in head))
            yield batch
            if not batch.committed:
                return

    def _commit(self, batch: MemoryBatch) -> None:
        with self._lock:
            self._check_open()
            count = len(batch.fills)
            if tuple(self._items[i][0] for i in range(min(count, len(self._items)))) != batch.fills:
                raise SpoolError("spool batches must be committed in the order drained")
            for _ in range(count):
                self._items.popleft()
            self._bytes -= batch.size

    def depth(self) -> SpoolDepth:
        with self._lock:
            return SpoolDepth(len(self._items), self._bytes)

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolError("spool is closed")

    def close(self) -> None:
        self._closed = True
