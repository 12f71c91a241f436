"""Local processes: the default executor.

The parent loads the market data once and forks the workers, which inherit it (numpy buffers are
shared copy-on-write, never written, so never copied); a task sends only its parameters and
window and gets back only a summary. Where fork is unavailable the data goes to each worker once,
through the pool's initializer, still never per task.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator, Sequence
from multiprocessing.pool import Pool

from alphadesk.backtest.data import MarketData
from alphadesk.sweep.task import Outcome, SweepSpec, Task, evaluate

_shared: tuple[SweepSpec, MarketData] | None = None
CHUNKS_PER_WORKER = 16
"""At least this many messages per worker: the last ones still spread over every worker."""
MAX_CHUNK = 8
"""At most this many tasks per message: a chunk's results come back when the whole chunk is done,
so they are logged (and kept by an interrupted sweep) in bursts of at most this many per worker;
past a few tasks the parent's saving per result is spent already."""


def chunk_size(tasks: int, workers: int) -> int:
    """Tasks per message to a worker. Each result crossing the pool costs the parent about a
    millisecond of CPU (pickling, the pool's threads), which with a worker per core comes out of
    the workers' time: batching tasks once there are many took the 100-set benchmark sweep's
    scaling on two cores from 1.77-1.89 to 1.91-1.98 on the compiled build. A search that hands
    over a few tasks at a time (Optuna's batches) keeps one per message."""
    return min(MAX_CHUNK, max(1, tasks // (workers * CHUNKS_PER_WORKER)))


def _install(spec: SweepSpec, data: MarketData) -> None:
    global _shared
    _shared = (spec, data)


def _quiet() -> None:
    """Ctrl-C reaches the whole process group: the parent stops the sweep and ends the pool;
    workers ignore it rather than each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start(spec: SweepSpec, data: MarketData) -> None:
    _quiet()
    _install(spec, data)


def _work(task: Task) -> Outcome:
    assert _shared is not None, "worker started without the sweep's data"
    spec, data = _shared
    return evaluate(spec, data, task)


class LocalExecutor:
    """:class:`~alphadesk.sweep.ports.Executor` on a pool of ``workers`` processes. Create it
    before starting threads (a progress bar's): fork copies only the calling thread."""

    def __init__(self, spec: SweepSpec, data: MarketData, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"--workers={workers}: must be >= 1")
        self._workers = workers
        if "fork" in multiprocessing.get_all_start_methods():
            _install(spec, data)
            self._pool: Pool = multiprocessing.get_context("fork").Pool(
                workers, initializer=_quiet
            )
        else:  # pragma: no cover - platforms without fork
            self._pool = multiprocessing.get_context("spawn").Pool(
                workers, initializer=_start, initargs=(spec, data)
            )

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return iter(())
        chunk = chunk_size(len(tasks), self._workers)
        return self._pool.imap_unordered(_work, tasks, chunksize=chunk)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
