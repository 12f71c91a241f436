"""Ctrl-C on a running ``alphadesk sweep`` process: it stops with what it finished kept, says how
to resume, and the same command then runs only the rest and ends with an uninterrupted sweep's
results. Also: a folder a running sweep holds is refused to a second one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.sweep.helpers import FIXED, STRATEGY, five_minute_files

from alphadesk.app.cli import main
from alphadesk.domain.errors import InvalidField
from alphadesk.sweep.store import RESULTS, JsonlResults

Finder = Callable[[str], list[Path]]
# 100 sets in-sample + the 3 best out of sample: many short backtests, so the sweep is still
# running when the signal arrives, however slowly the machine lets this test see the 3rd result
TOTAL = 103
CLI = [sys.executable, "-c", "import sys; from alphadesk.app.cli import main; sys.exit(main())"]


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_ctrl_c_keeps_the_finished_backtests_and_the_same_command_resumes(
    market_files: Finder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(p) for p in five_minute_files(market_files)]
    args = [
        "sweep", "--strategy", STRATEGY, "--data", *files, "--from", "2025-09-24",
        "--to", "2025-09-26", "--grid", "fast=2:20:2,slow=24:60:4", "--param",
        f"symbols={FIXED['symbols']}", "--top", "3", "--workers", "1",
    ]
    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        [*CLI, *args, "--out", str(cut)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _lines(cut / RESULTS) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep wrote no results"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    assert "run the same command again to resume" in err.decode()
    kept = _lines(cut / RESULTS)
    assert 3 <= kept < TOTAL

    assert main([*args, "--out", str(cut)]) == 0
    printed = capsys.readouterr().out
    assert f"{TOTAL - kept} backtests run" in printed and f"{kept} from" in printed
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    assert f"{TOTAL} backtests run" in capsys.readouterr().out
    resumed = json.loads((cut / "summary.json").read_text())
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert resumed["folds"] == whole["folds"]


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    first = JsonlResults(tmp_path, {"strategy": "x"})
    try:
        with pytest.raises(InvalidField, match="in use by another running sweep"):
            JsonlResults(tmp_path, {"strategy": "x"})
    finally:
        first.close()
    JsonlResults(tmp_path, {"strategy": "x"}).close()  # free again once closed
    assert os.path.exists(tmp_path / "manifest.json")


def test_a_data_folder_sweeps_the_same_as_its_files(market_files: Finder, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``--data FOLDER`` takes the folder's 5-minute files for ema_cross: the same results as
    naming them (and the folder's 4-hour file is left alone)."""
    folder = tmp_path / "market"
    folder.mkdir()
    files = five_minute_files(market_files)
    funding = [f for f in market_files("*_8h_funding_*.csv")
               if f.name.split("_")[0] in FIXED["symbols"].split(",")]
    assert len(funding) == 3  # beside the candles in both runs, so both charge the same
    for path in [*files, *funding, *market_files("BTCUSDT_4h_bybit-perp-*.csv")]:
        (folder / path.name).write_bytes(path.read_bytes())
    common = ["sweep", "--strategy", STRATEGY, "--from", "2025-09-24", "--to", "2025-09-26",
              "--grid", "fast=4:8:4,slow=24:28:4", "--param", f"symbols={FIXED['symbols']}",
              "--top", "1", "--workers", "1"]
    assert main([*common, "--data", str(folder), "--out", str(tmp_path / "by_folder")]) == 0
    assert main([*common, "--data", *map(str, files), "--out", str(tmp_path / "by_files")]) == 0
    by_folder = json.loads((tmp_path / "by_folder" / "summary.json").read_text())
    by_files = json.loads((tmp_path / "by_files" / "summary.json").read_text())
    assert by_folder["folds"] == by_files["folds"] and by_folder["folds"]
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*common, "--data", str(empty), "--out", str(tmp_path / "none")]) == 2
    assert f"--data {str(empty)!r}: no candle files of a 5-minute interval" in (
        capsys.readouterr().err)
