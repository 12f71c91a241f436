"""Frames of every account's socket, written into the :class:`Ingest` in batches.

While one batch is being committed, the frames that arrive queue here; the next batch takes them
all (up to ``max_batch``), so a burst costs one ledger transaction, not one per frame. The queue
is bounded: when it is full the sockets' readers wait, and TCP pushes back on the venue instead of
memory growing. Frames still queued when the process dies were never recorded, so the start-up
gap-fill fetches them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from alphadesk.domain.fills import Fill
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.state_ports import SpoolFull

log = logging.getLogger("alphadesk.listener")  # the listener process's log


class FrameSource(Protocol):
    """Where a frame came from (one account's feed): told when its frames were not recorded,
    so that it asks the venue's history for them again."""

    owes_gapfill: bool


class CommitObserver(Protocol):
    """Told, for each frame that carried fills, the seconds from its arrival here (straight off
    the socket) to the commit of its batch: the metrics' WebSocket-to-commit lag."""

    def frame_committed(self, lag_s: float) -> None: ...


Queued = tuple[FrameSource, Sequence[object], float]


class Inbox:
    def __init__(
        self,
        ingest: Ingest,
        *,
        max_frames: int = 10_000,
        max_batch: int = 2_000,
        max_in_flight: int = 2,
        observer: CommitObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ingest = ingest
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.batches = 0
        self.observer = observer
        self._clock = clock
        self._queue: asyncio.Queue[Queued] = asyncio.Queue(max_frames)

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def put(self, source: FrameSource, events: Sequence[object]) -> None:
        await self._queue.put((source, events, self._clock()))

    async def run(self) -> None:
        """Take the next batch as soon as the previous one's fills are committed: its insert
        overlaps the earlier batches' projection and announcement, which stay in commit order
        (see :class:`Ingest`); when those fall behind, the next turn settles every commit made
        meanwhile at once. At most ``max_in_flight`` batches are in flight."""
        in_flight: list[asyncio.Task[None]] = []
        try:
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                committed = asyncio.Event()
                in_flight.append(asyncio.create_task(self._write(batch, committed.set)))
                await committed.wait()
                while len(in_flight) >= self.max_in_flight or (in_flight and in_flight[0].done()):
                    await in_flight.pop(0)
        finally:  # a stopping listener still finishes what it has committed
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _write(self, batch: list[Queued], committed: Callable[[], None]) -> None:
        observer = self.observer

        def done() -> None:
            nonlocal observer
            if observer is not None:  # once per batch, at its commit
                now, told, observer = self._clock(), observer, None
                for _, events, arrived in batch:
                    if any(isinstance(e, Fill) for e in events):
                        told.frame_committed(now - arrived)
            committed()

        try:
            reports = [e for _, events, _ in batch for e in events]
            await self.ingest.ingest(reports, committed=done)
            self.batches += 1
        except SpoolFull as exc:
            for source, _, _ in batch:  # refused, not lost: the venue's history still has them
                source.owes_gapfill = True
            log.error("%s", exc)
        except Exception:
            for source, _, _ in batch:
                source.owes_gapfill = True
            log.exception("writing a batch of %d frames failed; gap-fill will recover it",
                          len(batch))
        finally:
            committed()  # also when the batch failed before its commit stage ended
            for _ in batch:
                self._queue.task_done()

    async def drain(self, within_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within_s)
