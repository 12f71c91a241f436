"""Sweeps on local processes: the same results as backtests run one by one, and resumable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.sweep.helpers import FIXED, SPEC, STRATEGY, five_minute_files, market, plan, sweep, table

from alphadesk.app.cli import main
from alphadesk.backtest import build as native_build
from alphadesk.backtest.data import load
from alphadesk.backtest.result import summarize, to_dict
from alphadesk.backtest.runner import run
from alphadesk.strategies import Strategy, build
from alphadesk.sweep import local
from alphadesk.sweep.local import LocalExecutor, chunk_size
from alphadesk.sweep.search import OPTUNA, RANDOM
from alphadesk.sweep.store import RESULTS
from alphadesk.sweep.task import DROPPED

Finder = Callable[[str], list[Path]]


def test_sweep_equals_the_same_backtests_run_one_by_one(
    market_files: Finder, tmp_path: Path
) -> None:
    files = five_minute_files(market_files)
    data = market(files)
    the_plan = plan(data, top=2)
    executor = LocalExecutor(SPEC, data, workers=2)
    try:
        result = sweep(the_plan, executor, tmp_path / "out")
    finally:
        executor.close()
    (fold,) = result.folds
    assert len(fold.ranked) == 7 and len(result.refused) == 2
    assert result.ran == 7 + 2 and result.resumed == 0
    w = fold.window
    checked_out = 0
    for row in fold.ranked:
        params = dict(row.params)

        def strategy(params: dict[str, str] = params) -> Strategy[Any]:
            return build(
                STRATEGY, fast=int(params["fast"]), slow=int(params["slow"]),
                symbols=tuple(FIXED["symbols"].split(",")),
            )

        # one by one: the backtest API on candles loaded for the window, as `alphadesk
        # backtest --from --to --json` runs it
        alone = to_dict(summarize(run(strategy(), load(files, w.in_start_ms, w.in_end_ms))))
        for dropped in DROPPED:
            del alone[dropped]
        assert row.in_sample.summary == alone
        assert row.in_sample.summary["symbols"] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        if row.out_of_sample is not None:
            checked_out += 1
            out = to_dict(summarize(run(strategy(), load(files, w.out_start_ms, w.out_end_ms))))
            assert row.out_of_sample.summary == {
                k: v for k, v in out.items() if k not in DROPPED
            }
    assert checked_out == 2
    ranked = [r.in_sample.summary["metrics"]["return_pct"] for r in fold.ranked]
    assert [float(x) for x in ranked] == sorted((float(x) for x in ranked), reverse=True)


def test_an_interrupted_sweep_resumes_and_ends_with_the_same_results(
    market_files: Finder, tmp_path: Path
) -> None:
    data = market(five_minute_files(market_files))
    the_plan = plan(data, folds=2, top=2)
    executor = LocalExecutor(SPEC, data, workers=2)
    try:
        whole = sweep(the_plan, executor, tmp_path / "whole")
        total = whole.ran
        assert total == 2 * 7 + 2 * 2

        def stop_after_five(done: int, _total: int) -> None:
            if done >= 5:  # where Ctrl-C lands: the main thread, waiting for results
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            sweep(the_plan, executor, tmp_path / "cut", progress=stop_after_five)
    finally:
        executor.close()
    kept = (tmp_path / "cut" / RESULTS).read_text().splitlines()
    assert 5 <= len(kept) < total
    with (tmp_path / "cut" / RESULTS).open("a") as f:
        f.write('{"key": "in:torn')  # a stop in the middle of a write
    executor = LocalExecutor(SPEC, data, workers=1)
    try:
        resumed = sweep(the_plan, executor, tmp_path / "cut")
    finally:
        executor.close()
    assert resumed.resumed == len(kept)
    assert resumed.ran == total - len(kept)
    assert table(resumed) == table(whole)
    lines = (tmp_path / "cut" / RESULTS).read_text().splitlines()
    assert len(lines) == total and all(json.loads(line)["key"] for line in lines)


def test_random_and_optuna_searches_are_seeded_and_replay_from_the_log(
    market_files: Finder, tmp_path: Path
) -> None:
    data = market(five_minute_files(market_files))
    executor = LocalExecutor(SPEC, data, workers=2)
    try:
        drawn = sweep(plan(data, RANDOM, n=4), executor, tmp_path / "random")
        assert len(drawn.folds[0].ranked) == 4 and not drawn.refused
        again = sweep(plan(data, RANDOM, n=4), executor, tmp_path / "random2")
        assert table(again) == table(drawn)

        tuned = sweep(plan(data, OPTUNA, n=10), executor, tmp_path / "optuna")
        points = {r.params for r in tuned.folds[0].ranked}
        assert 1 <= len(points) <= 7  # only the 7 sets the strategy accepts can run
        assert tuned.ran == len(points) + min(2, len(points))
        replay = sweep(plan(data, OPTUNA, n=10), executor, tmp_path / "optuna")
    finally:
        executor.close()
    assert replay.ran == 0 and replay.resumed == tuned.ran
    assert table(replay) == table(tuned)


def test_the_command_writes_ranked_outputs_reports_and_resumes(
    market_files: Finder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(p) for p in five_minute_files(market_files)]
    out = tmp_path / "sweep"
    argv = [
        "sweep", "--strategy", STRATEGY, "--data", *files, "--from", "2025-09-24",
        "--to", "2025-09-28", "--grid", "fast=5:15:5,slow=10:30:10", "--param",
        f"symbols={FIXED['symbols']}", "--metric", "return_pct", "--top", "2", "--workers", "2",
        "--out", str(out), "--reports", "1",
    ]
    assert main(argv) == 0
    first, err = capsys.readouterr()
    assert "9 backtests run" in first and "2 sets refused" in first
    assert f"sweep: build: {native_build.described()}\n" in err  # local workers: forks of this
    summary = json.loads((out / "summary.json").read_text())
    ranked = summary["folds"][0]["ranked"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5, 6, 7]
    assert ranked[0]["out_of_sample"] is not None and ranked[2]["out_of_sample"] is None
    (chosen,) = summary["walk_forward"]  # one fold: its best in-sample set, judged after
    assert chosen["params"] == ranked[0]["params"]
    assert chosen["in_sample"] == ranked[0]["in_sample"]["return_pct"]
    assert chosen["out_of_sample"] == ranked[0]["out_of_sample"]["return_pct"]
    assert "walk-forward, each fold's best return_pct" in first
    csv_lines = (out / "summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("fold,rank,fast,slow,is_trades") and len(csv_lines) == 8
    assert csv_lines[1].split(",")[2:4] == [ranked[0]["params"]["fast"],
                                            ranked[0]["params"]["slow"]]
    report = (out / "report-fold0-rank1.html").read_text()
    assert report.startswith("<!DOCTYPE html>") and "ema_cross backtest" in report

    assert main(argv) == 0
    second = capsys.readouterr().out
    assert "0 backtests run" in second and "9 from" in second
    assert json.loads((out / "summary.json").read_text())["folds"] == summary["folds"]

    # another sweep's folder is refused, naming what differs
    other = [a if a != f"symbols={FIXED['symbols']}" else "symbols=BTCUSDT" for a in argv]
    assert main(other) == 2
    assert "fixed_params differ" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("grid", "words"),
    [("fast=5:x:5", "'x' is not a number"),
     ("fats=5:10", "--grid='fats': is not a parameter of ema_cross"),
     ("fast=5.5:10", "--grid='fast=5.5': is not a valid int")],
)
def test_the_command_names_a_bad_grid_part(
    market_files: Finder, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    grid: str, words: str,
) -> None:
    files = [str(p) for p in five_minute_files(market_files)]
    argv = ["sweep", "--strategy", STRATEGY, "--data", *files, "--grid", grid,
            "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before any work


def test_chunk_size_batches_only_when_every_worker_keeps_many_messages() -> None:
    counts = (1, 9, 31, 32, 63, 64, 100, 1000)
    assert [chunk_size(n, 2) for n in counts] == [1, 1, 1, 1, 1, 2, 3, 8]
    assert chunk_size(100, 1) == 6 and chunk_size(5, 8) == 1


def test_a_sweep_in_chunks_gives_the_same_results(
    market_files: Finder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks handed over several at a time (forced here: 9 tasks, 2 workers, chunks of 4) give
    the same ranked rows and refusals as one at a time."""
    data = market(five_minute_files(market_files))
    the_plan = plan(data, top=2)

    def rows(folder: str) -> tuple[list[tuple[Any, Any]], int]:
        executor = LocalExecutor(SPEC, data, workers=2)
        try:
            result = sweep(the_plan, executor, tmp_path / folder)
        finally:
            executor.close()
        (fold,) = result.folds
        return [(r.params, r.in_sample.summary) for r in fold.ranked], len(result.refused)

    one_by_one = rows("single")
    monkeypatch.setattr(local, "CHUNKS_PER_WORKER", 1)
    assert local.chunk_size(9, 2) == 4
    assert rows("chunked") == one_by_one
    assert len(one_by_one[0]) == 7
