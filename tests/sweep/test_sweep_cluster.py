"""The Dask backend against a real local Dask cluster (a scheduler and two worker processes)
started by the test: the same results as local processes, and through the command's --cluster."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.sweep.helpers import FIXED, SPEC, STRATEGY, five_minute_files, market, plan, sweep, table

from alphadesk.app.cli import main
from alphadesk.sweep.cluster import DaskExecutor
from alphadesk.sweep.local import LocalExecutor

Finder = Callable[[str], list[Path]]


def _windows_held() -> int:
    from alphadesk.sweep import task

    return len(task._windows)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        host="127.0.0.1",
    ) as c:
        yield c


def test_dask_cluster_gives_the_local_results(
    cluster: Any, market_files: Finder, tmp_path: Path
) -> None:
    data = market(five_minute_files(market_files))
    the_plan = plan(data, folds=2, top=2)
    local = LocalExecutor(SPEC, data, workers=1)
    try:
        expected = sweep(the_plan, local, tmp_path / "local")
    finally:
        local.close()
    remote = DaskExecutor(SPEC, data, cluster.scheduler_address)
    try:
        assert remote.workers == 2
        got = sweep(the_plan, remote, tmp_path / "dask")
        # both workers ran backtests next to the data scattered to them
        windows_held = remote.client.run(_windows_held)
        assert len(windows_held) == 2 and all(n >= 1 for n in windows_held.values())
    finally:
        remote.close()
    assert got.ran == expected.ran == 2 * 7 + 2 * 2
    assert table(got) == table(expected)


def test_the_command_runs_on_the_cluster_address(
    cluster: Any, market_files: Finder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(p) for p in five_minute_files(market_files)]
    base = [
        "sweep", "--strategy", STRATEGY, "--data", *files, "--from", "2025-09-24",
        "--to", "2025-09-28", "--grid", "fast=5:15:5,slow=10:30:10", "--param",
        f"symbols={FIXED['symbols']}", "--metric", "return_pct", "--top", "2",
    ]
    assert main([*base, "--out", str(tmp_path / "local"), "--workers", "1"]) == 0
    assert "sweep: build: " in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "dask"), "--cluster",
                 cluster.scheduler_address]) == 0
    printed, err = capsys.readouterr()
    assert "sweep: build: " not in err  # the cluster's workers run their own machines' build
    assert "on 2 workers" in printed
    local = json.loads((tmp_path / "local" / "summary.json").read_text())
    remote = json.loads((tmp_path / "dask" / "summary.json").read_text())
    assert remote["folds"] == local["folds"]
