"""The README's first command: the demo runs on embedded defaults and is idempotent."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from alphadesk.app.cli import main


def test_demo_fills_the_ledger_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["demo", "--report-dir", str(tmp_path / "reports")]) == 0
    first = capsys.readouterr().out
    stored = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): (\d+) fills stored", first)}
    assert set(stored) == {"shortseller_001", "lxalgo_001", "momentum_001"}
    assert all(n > 0 for n in stored.values())

    db = tmp_path / "alphadesk.db"
    with sqlite3.connect(db) as conn:
        query = (
            "SELECT bot_id, COUNT(*) FROM (SELECT bot_id FROM fills UNION ALL"
            " SELECT bot_id FROM funding) GROUP BY bot_id"
        )
        rows = dict(conn.execute(query).fetchall())
    assert rows == stored  # trades in fills, funding payments kept apart in funding
    assert (tmp_path / "reports" / "momentum_001.html").read_text().startswith("<!DOCTYPE html>")

    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    again = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): 0 fills stored, (\d+)", second)}
    assert again == stored
