"""A caller cancelled mid-write never lets the next caller into its open transaction."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from alphadesk.adapters.storage.sqlite_schema import run_serialised


class WatchedLock(asyncio.Lock):
    """An asyncio lock that says when a caller had to queue for it."""

    def __init__(self) -> None:
        super().__init__()
        self.contended = asyncio.Event()

    async def acquire(self) -> bool:
        if self.locked():
            self.contended.set()
        return await super().acquire()


async def test_cancelled_caller_keeps_the_connection_until_its_thread_is_done(
    tmp_path: Path,
) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", check_same_thread=False, isolation_level=None)
    conn.execute("CREATE TABLE t (v INTEGER)")
    lock = WatchedLock()
    inside = threading.Event()
    release = threading.Event()

    def slow(c: sqlite3.Connection) -> None:
        c.execute("BEGIN IMMEDIATE")
        inside.set()
        release.wait(5)
        c.execute("INSERT INTO t VALUES (1)")
        c.execute("COMMIT")

    def quick(c: sqlite3.Connection) -> int:
        c.execute("BEGIN IMMEDIATE")  # raises "within a transaction" if it ran too early
        c.execute("INSERT INTO t VALUES (2)")
        c.execute("COMMIT")
        return int(c.execute("SELECT count(*) FROM t").fetchone()[0])

    first = asyncio.create_task(run_serialised(lock, conn, slow))
    await asyncio.to_thread(inside.wait, 5)
    first.cancel()
    second = asyncio.create_task(run_serialised(lock, conn, quick))
    # the next caller is queued behind the lock, or (wrongly) got in and is done
    contended = asyncio.ensure_future(lock.contended.wait())
    await asyncio.wait({second, contended}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    contended.cancel()
    assert lock.contended.is_set() or second.done()
    assert not second.done(), "the next caller must wait for the cancelled caller's thread"
    release.set()
    assert await second == 2
    assert first.cancelled()
    conn.close()
