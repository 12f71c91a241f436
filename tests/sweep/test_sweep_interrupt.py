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
