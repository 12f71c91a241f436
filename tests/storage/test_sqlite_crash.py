"""SQLite mode survives a SIGKILL anywhere: the next process to open the file repairs it.

A real child process (this file run as a script) migrates a fresh ledger file and writes a fixed
plan of fills through the fill writer, and kills itself with SIGKILL at a point drawn by a seeded
random generator: after the k-th SQL statement of the first migration, after a batch's fills
commit but before its position rows are saved, or between two batches. The hooks that pull the
trigger live here, in the child's own code (a SQLAlchemy statement listener and a store wrapper),
not in production code. After each kill:

1. a rerun that only migrates and opens the ledger (as ``alphadesk demo`` does before writing
   fills that are then all already stored) must leave every position row equal to the fold of
   the ledger's fills for it, read back with a plain connection;
2. a rerun of the whole plan (in the test's process) must leave every planned fill stored
   exactly once, the rows still equal to the fold, and ``db upgrade`` with nothing to apply.

Set ALPHADESK_CRASH_SEED to replay another draw; the seed is in every failure message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphadesk.adapters.storage import migrate, rows, sqlite_schema
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import fold
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import PositionSave

SEED = int(os.environ.get("ALPHADESK_CRASH_SEED", "20261206"))
PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "bybit_payloads"
PAYLOAD = PAYLOADS / "ws_account_execution.json"
T0 = datetime(2025, 10, 24, 5, 15, tzinfo=UTC)
KEYS = [(bot, sym) for bot in ("lxalgo_001", "momentum_001") for sym in ("BTCUSDT", "ETHUSDT")]
BATCHES = 6
PER_BATCH = 5
CHILD_TIMEOUT_S = 60


# ---------------------------------------------------------------------------------------------
# The plan (the same in every process: it depends on the seed only)


def plan(seed: int) -> list[list[Fill]]:
    """Batches of fills shaped like the recorded execution: trades both ways on four keys, some
    sharing a millisecond, and funding settlements at the instant of a trade."""
    template = json.loads(PAYLOAD.read_text(encoding="utf-8"))["data"][0]
    rng = random.Random(seed)
    batches: list[list[Fill]] = []
    n = 0
    for b in range(BATCHES):
        batch: list[Fill] = []
        for _ in range(PER_BATCH):
            n += 1
            bot, symbol = rng.choice(KEYS)
            at = T0 + timedelta(seconds=n // 2)  # pairs of fills share an instant
            funding = rng.random() < 0.15
            price = Decimal(template["execPrice"]) + rng.randint(-500, 500)
            qty = Decimal(rng.choice(("0.001", "0.01", "0.5", "1.2")))
            rate = Decimal(template["feeRate"]) * (rng.choice((1, -1)) if funding else 1)
            batch.append(
                Fill(
                    venue="bybit",
                    account="386825804",
                    exec_id=f"{template['execId']}-{n}",
                    bot_id=bot,
                    symbol=symbol,
                    side=rng.choice(("Buy", "Sell")),  # type: ignore[arg-type]
                    price=price,
                    qty=qty,
                    fee=price * qty * rate,
                    exec_time=at,
                    exec_type="Funding" if funding else "Trade",  # type: ignore[arg-type]
                    order_id=f"{template['orderId']}-{b}",
                    order_type=template["orderType"],
                    seq=int(template["seq"]) + n,
                )
            )
        batches.append(batch)
    return batches


# ---------------------------------------------------------------------------------------------
# The child process


class _KillBeforeSave:
    """The real store; the save of the ``at``-th projection (0-based) kills the process first."""

    def __init__(self, inner: SqliteLedger, at: int | None) -> None:
        self._inner = inner
        self._at = at
        self.saves = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save_positions(self, saves: Sequence[PositionSave]) -> set[tuple[str, str]]:
        if self.saves == self._at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.saves += 1
        return await self._inner.save_positions(saves)


def _kill_after_statement(k: int) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen = [0]

    def after(*_: Any) -> None:
        seen[0] += 1
        if seen[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "after_cursor_execute", after)


async def _child_write(path: Path, seed: int, kill: str) -> None:
    kind, _, where = kill.partition(":")
    store = await SqliteLedger.connect(path)
    wrapped = _KillBeforeSave(store, int(where) if kind == "save" else None)
    writer = FillWriter(wrapped)
    try:
        for i, batch in enumerate(plan(seed)):
            await writer.write(batch)
            if kind == "batch" and i == int(where):
                os.kill(os.getpid(), signal.SIGKILL)
    finally:
        await store.close()


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--kill", default="none", help="migration:K | save:N | batch:N | none")
    parser.add_argument("--open-only", action="store_true")
    args = parser.parse_args(argv)
    if args.kill.startswith("migration:"):
        _kill_after_statement(int(args.kill.partition(":")[2]))
    migrate.upgrade(f"sqlite:///{args.path}")
    if args.open_only:
        asyncio.run(_open_and_close(args.path))
    else:
        asyncio.run(_child_write(args.path, args.seed, args.kill))


async def _open_and_close(path: Path) -> None:
    store = await SqliteLedger.connect(path)
    await store.close()


# ---------------------------------------------------------------------------------------------
# The parent: reads the file with a plain connection (opening a SqliteLedger would repair it)


@dataclass(frozen=True)
class Stored:
    fills: list[Fill]
    positions: dict[tuple[str, str], Any]


def _read(path: Path) -> Stored:
    conn = sqlite_schema.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        columns = ", ".join(rows.COLUMN_NAMES)
        fills = [
            rows.fill_from_row(r, texts=True)
            for table in rows.TABLES
            for r in conn.execute(f"SELECT {columns} FROM trading.{table}")
        ]
        cols = ", ".join(rows.POSITION_COLUMNS)
        records = conn.execute(f"SELECT {cols} FROM trading.positions").fetchall()
    finally:
        conn.close()
    found = {(r["bot_id"], r["symbol"]): rows.position_from_row(r, texts=True) for r in records}
    return Stored(fills, found)


def _tables(path: Path) -> list[str]:
    conn = sqlite_schema.connect(path)
    try:
        listed = conn.execute("SELECT name FROM trading.sqlite_master WHERE type = 'table'")
        return sorted(str(r[0]) for r in listed)
    finally:
        conn.close()


def _assert_projection_is_the_fold(path: Path, why: str) -> Stored:
    stored = _read(path)
    by_key: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in stored.fills:
        by_key[fill.bot_id, fill.symbol].append(fill)
    assert set(stored.positions) == set(by_key), why
    for key, fills in by_key.items():
        record, expected = stored.positions[key], fold(key[0], key[1], fills)
        assert record.fill_count == len(fills), f"{why}: {key} folds {record.fill_count}"
        got = record.position
        assert (got.qty, got.cost, got.realized_pnl, got.fees, got.funding) == (
            expected.qty, expected.cost, expected.realized_pnl, expected.fees, expected.funding,
        ), f"{why}: {key}"  # fmt: skip
    return stored


def _run_child(path: Path, *args: str) -> int:
    done = subprocess.run(
        [sys.executable, __file__, str(path), "--seed", str(SEED), *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"child {args} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.returncode


def _first_migration_statements(tmp: Path) -> int:
    """How many statements a first upgrade sends (so every one of them can be a kill point)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen = [0]

    def count(*_: Any) -> None:
        seen[0] += 1

    event.listen(Engine, "after_cursor_execute", count)
    try:
        migrate.upgrade(f"sqlite:///{tmp / 'count.db'}")
    finally:
        event.remove(Engine, "after_cursor_execute", count)
    return seen[0]


def _kill_points(rng: random.Random, statements: int) -> list[str]:
    saves = sorted(rng.sample(range(BATCHES - 1), 2))
    return [
        *(f"migration:{k}" for k in sorted(rng.sample(range(1, statements + 1), 2))),
        *(f"save:{n}" for n in saves),
        f"save:{BATCHES - 1}",  # the last batch: no later fill would ever touch its rows
        f"batch:{rng.randrange(BATCHES)}",
    ]


def test_a_sigkill_anywhere_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    statements = _first_migration_statements(tmp_path)
    points = _kill_points(random.Random(SEED), statements)
    planned = {f.exec_id for batch in plan(SEED) for f in batch}
    for point in points:
        why = f"seed {SEED}, killed at {point}"
        path = tmp_path / f"{point.replace(':', '-')}.db"
        assert _run_child(path, "--kill", point) == -signal.SIGKILL, f"{why}: no kill happened"

        if point.startswith("migration:"):
            assert migrate.current(f"sqlite:///{path}") == (), why
            assert _tables(path) == [], f"{why}: the migration was not atomic"
        else:
            before = _read(path)
            assert before.fills, f"{why}: nothing committed before the kill"

        assert _run_child(path, "--open-only") == 0
        _assert_projection_is_the_fold(path, f"{why}, after a rerun that only opens the ledger")

        asyncio.run(_child_write(path, SEED, "none"))  # the whole plan again, in this process
        stored = _assert_projection_is_the_fold(path, f"{why}, after a full rerun")
        assert sorted(f.exec_id for f in stored.fills) == sorted(planned), why
        assert migrate.upgrade(f"sqlite:///{path}") == [], why
        assert migrate.current(f"sqlite:///{path}") == (migrate.head(),), why


def test_a_kill_between_commit_and_save_leaves_a_stale_row_without_the_repair(
    tmp_path: Path,
) -> None:
    """The failure the repair exists for is real: the killed run's last rows ARE stale."""
    path = tmp_path / "stale.db"
    assert _run_child(path, "--kill", f"save:{BATCHES - 1}") == -signal.SIGKILL
    stored = _read(path)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for fill in stored.fills:
        counts[fill.bot_id, fill.symbol] += 1
    behind = [k for k, n in counts.items() if k not in stored.positions or
              stored.positions[k].fill_count != n]  # fmt: skip
    assert behind, f"seed {SEED}: the kill left no row behind the ledger"


async def test_opening_the_ledger_rebuilds_exactly_the_stale_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    await asyncio.to_thread(migrate.upgrade, f"sqlite:///{path}")
    store = await SqliteLedger.connect(path)
    try:
        await FillWriter(store).write([f for batch in plan(SEED) for f in batch])
        await store._run(  # a dead process's leftovers: one row lost, one row behind
            lambda c: c.executescript(
                f"DELETE FROM trading.positions WHERE bot_id = '{KEYS[0][0]}' "
                f"AND symbol = '{KEYS[0][1]}';"
                "UPDATE trading.positions SET fill_count = fill_count - 1, qty = '0' "
                f"WHERE bot_id = '{KEYS[3][0]}' AND symbol = '{KEYS[3][1]}';"
            )
        )
        assert sorted(await store.stale_positions()) == sorted([KEYS[0], KEYS[3]])
    finally:
        await store.close()
    reopened = await SqliteLedger.connect(path)
    try:
        assert await reopened.stale_positions() == []
    finally:
        await reopened.close()
    _assert_projection_is_the_fold(path, "after reopening")


def test_a_schema_half_made_by_an_older_version_is_finished(tmp_path: Path) -> None:
    """Files an interrupted first migration left before upgrades were atomic: tables, an empty
    version table. The upgrade drops the empty leftovers and migrates afresh."""
    url = f"sqlite:///{tmp_path / 'half.db'}"
    migrate.upgrade(url)
    conn = sqlite_schema.connect(tmp_path / "half.db")
    conn.executescript(
        "DELETE FROM trading.alembic_version; DROP TABLE trading.equity; "
        "DROP TABLE trading.sync_status;"
    )
    conn.close()
    assert migrate.current(url) == ()
    assert len(migrate.upgrade(url)) >= 1
    assert migrate.current(url) == (migrate.head(),)
    assert {"equity", "sync_status", "fills", "positions"} <= set(_tables(tmp_path / "half.db"))


def test_a_half_made_schema_with_rows_is_refused_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    migrate.upgrade(url)
    conn = sqlite_schema.connect(tmp_path / "kept.db")
    conn.executescript(
        "DELETE FROM trading.alembic_version; "
        "INSERT INTO trading.bots (bot_id, bot_name, bot_type, strategy_name, deployment_mode, "
        "initial_capital) VALUES ('b', 'b', 'b', 'momentum', 'paper', '1000');"
    )
    conn.close()
    with pytest.raises(sqlite_schema.HalfMadeSchemaError, match="bots hold rows"):
        migrate.upgrade(url)
    assert _tables(tmp_path / "kept.db")  # nothing dropped


if __name__ == "__main__":
    child(sys.argv[1:])
