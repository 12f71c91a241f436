"""The README's first command: the demo runs on embedded defaults, is idempotent, and keeps to its
own ledger and its own bot ids (issue 12 item 3: it used to fill the desk's real ledger under the
real bots' ids, and a real bot then read the demo's trades as its own)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from alphadesk.app.cli import main

DEMO_IDS = {"demo_shortseller", "demo_lxalgo", "demo_momentum"}


def test_demo_fills_its_own_ledger_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "desk.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")  # the desk's real ledger
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["demo", "--report-dir", str(tmp_path / "reports")]) == 0
    first = capsys.readouterr().out
    db = tmp_path / "alphadesk-demo.db"
    assert f"demo ledger: sqlite:///{db} " in first  # says where it wrote
    stored = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): (\d+) fills stored", first)}
    assert set(stored) == DEMO_IDS
    assert all(n > 0 for n in stored.values())
    assert not real.exists()  # DATABASE_URL is never the demo's default

    with sqlite3.connect(db) as conn:
        query = (
            "SELECT bot_id, COUNT(*) FROM (SELECT bot_id FROM fills UNION ALL"
            " SELECT bot_id FROM funding) GROUP BY bot_id"
        )
        rows = dict(conn.execute(query).fetchall())
        trips = dict(conn.execute(
            "SELECT bot_id, COUNT(*) FROM completed_trades WHERE source = 'ledger' GROUP BY bot_id"
        ).fetchall())  # fmt: skip
    assert rows == stored  # trades in fills, funding payments kept apart in funding
    assert set(trips) == DEMO_IDS and all(n > 0 for n in trips.values())  # round trips kept too
    assert (tmp_path / "reports" / "demo_momentum.html").read_text().startswith("<!DOCTYPE html>")

    # again, named by the flag: nothing new (exactly-once), still only the demo's bot ids
    assert main(["demo", "--database-url", f"sqlite:///{db}"]) == 0
    second = capsys.readouterr().out
    assert f"demo ledger: sqlite:///{db}" in second
    again = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): 0 fills stored, (\d+)", second)}
    assert again == stored
    assert not real.exists()
