"""A Dask distributed cluster: the same sweep on many machines.

Dask rather than Ray: it installs from the package index as pure Python wheels (Ray is a large
binary with its own object store and daemons), a scheduler and workers start with two commands
(``dask scheduler``, ``dask worker tcp://HOST:8786``) or in-process (``LocalCluster``), and its
futures API is all a sweep needs. The market data is scattered once to every worker
(``broadcast``) and each task refers to it by future, so it crosses the network once per worker,
not per task. Workers need the same ``alphadesk`` installed (they import :func:`evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from alphadesk.backtest.data import MarketData
from alphadesk.sweep.task import Outcome, SweepSpec, Task, evaluate


class DaskExecutor:
    """:class:`~alphadesk.sweep.ports.Executor` on the cluster at ``address`` (``tcp://...``);
    ``local`` starts an in-process cluster of ``local_workers`` processes."""

    def __init__(
        self, spec: SweepSpec, data: MarketData, address: str, local_workers: int = 2
    ) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=local_workers, threads_per_worker=1, processes=True,
                dashboard_address=None,
            )
            self._client: Any = Client(self._cluster)  # type: ignore[no-untyped-call]
        else:
            self._client = Client(address, timeout=30)  # type: ignore[no-untyped-call]
        self._spec = spec
        self._data = self._client.scatter(data, broadcast=True)

    @property
    def client(self) -> Any:
        """The ``distributed.Client``, for callers that want the cluster itself."""
        return self._client

    @property
    def workers(self) -> int:
        return len(self._client.scheduler_info().get("workers", {}))

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        from distributed import as_completed

        futures = [
            self._client.submit(evaluate, self._spec, self._data, task, pure=False)
            for task in tasks
        ]
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                outcome: Outcome = future.result()
                yield outcome
        finally:  # an interrupted sweep leaves nothing queued on the cluster
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
