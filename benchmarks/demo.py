"""Demo speed: the wall time (and CPU time) of ``alphadesk demo``, the whole desk in one process.

The demo runs as a user runs it: ``alphadesk demo --plain`` in a fresh temporary folder (the
default SQLite ledger, in-process state, the whole bundled period unless ``--days`` is given),
as a child process, so the figures include start-up, the replay, the listener's last writes, the
sync, the reconcile and the report. CPU time is the child's user + system time (what load from
other processes cannot inflate; wall time on a busy machine can). The baseline, in the same run:
``alphadesk demo --quick``, the same three strategies over the same bundled candles as plain
backtests (no venue, sockets, listener or ledger round trips), the least work the figures could
come from.
Printed: ``demo: W s wall, C s CPU`` with the replay's steps and bars, ``quick: ...``, and the
ratios ``demo/quick``. Goal: the demo's wall time under 120 s on a two-core machine.
Run: ``.venv/bin/python benchmarks/demo.py [--days N]``.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALPHADESK = Path(sys.executable).with_name("alphadesk")
GOAL_S = 120.0


def timed(args: list[str]) -> tuple[float, float, str]:
    """Run ``alphadesk ARGS`` in a fresh folder: wall seconds, CPU seconds, its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        began = time.perf_counter()
        done = subprocess.run([str(ALPHADESK), *args], cwd=folder, capture_output=True,
                              text=True, check=False)
        wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"alphadesk {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default=None, help="replay only this many simulated days")
    days = parser.parse_args().days
    extra = ["--days", days] if days else []

    quick_wall, quick_cpu, _ = timed(["demo", "--quick"])
    wall, cpu, out = timed(["demo", "--plain", *extra])
    replay = re.search(r"replayed (.+?): ([\d,]+) clock steps, ([\d,]+) bars", out)
    fills = re.search(r"Total Fills: ([\d,]+)", out)
    reconcile = re.search(r"reconcile: ([^\n]+)", out)
    if replay is None or fills is None or reconcile is None:
        sys.exit(f"unexpected demo output:\n{out[-2000:]}")
    print(f"demo: {wall:.1f} s wall, {cpu:.1f} s CPU ({replay[1]}: {replay[2]} clock steps, "
          f"{replay[3]} bars, {fills[1]} fills; {reconcile[1][:40]}...)")
    print(f"quick: {quick_wall:.1f} s wall, {quick_cpu:.1f} s CPU (the same strategies as "
          "backtests)")
    print(f"ratio demo/quick: {wall / quick_wall:.1f}x wall, {cpu / quick_cpu:.1f}x CPU")
    print(f"goal: under {GOAL_S:.0f} s wall: {'met' if wall < GOAL_S else 'NOT met'}")


if __name__ == "__main__":
    main()
