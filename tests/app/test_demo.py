"""The README's first command: ``alphadesk demo`` runs the whole desk in one process (simulators,
three bots through the real Bybit adapter, the listener, sync, reconcile) on a shortened replay,
and what it prints is what its ledger holds. It keeps to its own ledger and bot ids (issue 12
item 3) and uses the desk's PostgreSQL and Redis only when told (``--use-env``, issue 18).

The printed figures are checked against the ledger's rows read with plain SQL, not through the
code that printed them.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from alphadesk.app.cli import main
from harness.postgres import PgDatabase

DEMO_IDS = ("demo_shortseller", "demo_lxalgo", "demo_momentum")
BOT_LINE = re.compile(
    r"(demo_\w+): ([\d,]+) fills \| volume ([\d,.]+) USDT \| ([\d,]+) round trips, win rate "
    r"([\d.]+)% \| net PnL ([-+][\d,.]+) USDT"
)
#: Two simulated days: shortseller trades in them; lxalgo and momentum (still warming up on
#: the 4-hour market) do not, and are listed with zeros.
DAYS = "2"


def _num(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def printed(out: str) -> dict[str, tuple[int, Decimal, int, Decimal, Decimal]]:
    return {m[0]: (int(_num(m[1])), _num(m[2]), int(_num(m[3])), _num(m[4]), _num(m[5]))
            for m in BOT_LINE.findall(out)}


def expected(fills: Iterable[tuple[str, str, str, str]],
             trips: Iterable[tuple[str, str]]) -> tuple[dict[str, tuple[int, Decimal, int, Decimal,
                                                                     Decimal]], Counter[str]]:
    """Per bot from the ledger's rows: fills, volume (the seed's SUM(exec_price * exec_qty)),
    round trips, win rate (%, one decimal) and net PnL (two decimals); fills per symbol."""
    rows = list(fills)
    closed = list(trips)
    out = {}
    for bot in DEMO_IDS:
        own = [r for r in rows if r[0] == bot]
        nets = [Decimal(n) for b, n in closed if b == bot]
        wins = sum(1 for n in nets if n > 0)
        rate = (Decimal(wins) / len(nets) * 100) if nets else Decimal(0)
        out[bot] = (
            len(own),
            sum((Decimal(p) * Decimal(q) for _, _, p, q in own), Decimal(0)).quantize(
                Decimal("0.01")),
            len(nets),
            rate.quantize(Decimal("0.1")),
            sum(nets, Decimal(0)).quantize(Decimal("0.01")),
        )  # fmt: skip
    return out, Counter(r[1] for r in rows)


def check_summary(out: str, fills: list[tuple[str, str, str, str]],
                  trips: list[tuple[str, str]]) -> None:
    want, symbols = expected(fills, trips)
    assert printed(out) == want
    assert want["demo_shortseller"][0] > 0, "the replayed days must trade"
    total = sum(v[0] for v in want.values())
    assert f"Total Fills: {total:,}\n" in out
    assert f"Total Volume: {sum(v[1] for v in want.values()):,.2f} USDT" in out
    top = re.findall(r"[├└]─ (\w+USDT): ([\d,]+) fills", out)
    assert top and all(symbols[s] == int(_num(n)) for s, n in top)
    assert [s for s, _ in top] == [s for s, _ in sorted(symbols.items(),
                                                         key=lambda kv: (-kv[1], kv[0]))][:5]
    assert "reconcile: 0 differences on 3 accounts" in out
    assert "+0 rows added" in out  # the sync found every execution already recorded


def test_the_demo_runs_the_desk_and_prints_what_its_ledger_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "desk.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")  # the desk's real ledger
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing answers there
    assert main(["demo", "--days", DAYS, "--plain"]) == 0
    out = capsys.readouterr().out
    db = tmp_path / "alphadesk-demo.db"
    assert f"demo ledger: sqlite:///{db} " in out  # says where it writes
    assert f"ledger: sqlite:///{db}\n" in out
    assert "demo state and bus: in process" in out
    assert re.search(r"demo +[\d.]+s: replaying \| 2025-09-2\d .* step \d", out)  # progress
    assert not real.exists()  # DATABASE_URL is never the demo's default

    with sqlite3.connect(db) as conn:
        fills = conn.execute("SELECT bot_id, symbol, exec_price, exec_qty FROM fills").fetchall()
        trips = conn.execute(
            "SELECT bot_id, net_pnl FROM completed_trades WHERE source = 'ledger'"
        ).fetchall()
        bots = dict(conn.execute("SELECT bot_id, status FROM bots").fetchall())
        accounts = {a for (a,) in conn.execute("SELECT DISTINCT account FROM fills")}
        orders = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    check_summary(out, fills, trips)
    assert bots == dict.fromkeys(DEMO_IDS, "stopped")  # registered by the bots themselves
    assert accounts <= set(DEMO_IDS)  # one account (key) per bot
    assert orders > 0  # the listener keeps trading.orders too
    stored = int(re.search(r"listener: ([\d,]+) executions stored", out)[1].replace(",", ""))
    assert stored >= len(fills)  # trades plus funding
    page = (tmp_path / "alphadesk-demo-reports" / "index.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "demo_shortseller" in page
    assert "report: alphadesk-demo-reports/index.html" in out

    # again: the demo's own file is made anew (its venues start empty), never appended to
    assert main(["demo", "--days", "0.5", "--plain"]) == 0
    again = capsys.readouterr().out
    with sqlite3.connect(db) as conn:
        first_day = conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    assert first_day < len(fills)
    assert f"Total Fills: {first_day:,}\n" in again


async def test_the_demo_on_postgres_through_pgbouncer_and_redis(
    fresh_pg_database: PgDatabase, redis_url: str, redis_prefix: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", fresh_pg_database.bouncer_dsn)
    monkeypatch.setenv("REDIS_URL", redis_url)
    argv = ["demo", "--use-env", "--namespace", redis_prefix, "--days", DAYS, "--plain"]
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "demo ledger: postgresql://" in out and "demo state and bus: Redis" in out

    conn = await asyncpg.connect(fresh_pg_database.bouncer_dsn, statement_cache_size=0)
    try:
        fills = [tuple(str(v) for v in r) for r in await conn.fetch(
            "SELECT bot_id, symbol, exec_price, exec_qty FROM trading.fills")]
        trips = [(r[0], str(r[1])) for r in await conn.fetch(
            "SELECT bot_id, net_pnl FROM trading.completed_trades WHERE source = 'ledger'")]
        executions = await conn.fetchval(
            "SELECT (SELECT COUNT(*) FROM trading.fills) + (SELECT COUNT(*) FROM trading.funding)")
    finally:
        await conn.close()
    check_summary(out, fills, trips)  # type: ignore[arg-type]

    client = Redis.from_url(redis_url)
    try:  # the listener announced every execution it stored on the desk's bus, once
        assert await client.xlen(f"{redis_prefix}events:fills") == executions
        heartbeat = await client.exists(f"{redis_prefix}bot:demo_shortseller:status")
    finally:
        await client.aclose()
    assert heartbeat == 1  # the bots' live status went to Redis too

    # a named ledger that holds a demo run already is refused, not mixed with a new venue's
    code = await asyncio.to_thread(main, argv)
    assert code == 2
    assert "already holds an earlier demo run's fills (demo_shortseller)" in capsys.readouterr().err


def test_quick_keeps_the_backtest_summary_in_its_own_ledger_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "desk.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["demo", "--quick", "--report-dir", str(tmp_path / "reports")]) == 0
    first = capsys.readouterr().out
    db = tmp_path / "alphadesk-demo.db"
    assert f"demo ledger: sqlite:///{db} " in first
    stored = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): (\d+) fills stored", first)}
    assert set(stored) == set(DEMO_IDS) and all(n > 0 for n in stored.values())
    assert not real.exists()
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute(
            "SELECT bot_id, COUNT(*) FROM (SELECT bot_id FROM fills UNION ALL"
            " SELECT bot_id FROM funding) GROUP BY bot_id").fetchall())  # fmt: skip
    assert rows == stored
    assert (tmp_path / "reports" / "demo_momentum.html").read_text().startswith("<!DOCTYPE html>")

    # again, named by the flag: nothing new (exactly-once)
    assert main(["demo", "--quick", "--database-url", f"sqlite:///{db}"]) == 0
    again = {m[0]: int(m[1]) for m in re.findall(r"ledger (\w+): 0 fills stored, (\d+)",
                                                 capsys.readouterr().out)}
    assert again == stored


def test_bad_demo_options_name_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--days", "0"]) == 2
    assert "--days=0" in capsys.readouterr().err
    assert main(["demo", "--redis-url", "redis://127.0.0.1:1/0"]) == 2
    assert "--redis-url='redis://127.0.0.1:1/0': cannot connect" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["demo", "--use-env"]) == 2  # never the desk's default file by accident
    assert "--use-env: DATABASE_URL is not set" in capsys.readouterr().err
    assert not (tmp_path / "alphadesk-demo.db").exists()


async def test_the_demo_serves_its_ledger_on_the_dashboard_and_prints_the_url(
    tmp_path: Path,
) -> None:
    """``demo --web``: after the run the dashboard serves what the ledger holds (issue 19: the
    demo prints its URL) until SIGTERM; its figures are the ledger's."""
    import os
    import signal
    import sys

    import aiohttp

    token = "demo-dashboard-token-0123456789"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALPHADESK_WEB_", "DATABASE_URL", "REDIS_URL"))}  # fmt: skip
    env["ALPHADESK_WEB_ADMIN_TOKEN"] = token
    with (tmp_path / "demo.err").open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sys; from alphadesk.app.cli import main; sys.exit(main())",
            "demo", "--days", "0.5", "--plain", "--web", "--web-port", "0", cwd=tmp_path,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    assert proc.stdout is not None
    try:
        url = None
        while url is None:  # the run prints its summary, then the dashboard's address
            line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
            assert line, "the demo ended without serving the dashboard"
            found = re.match(r"dashboard: (http://127\.0\.0\.1:\d+)\S* \(Ctrl-C to stop\)", line)
            url = found[1] if found else None
        with sqlite3.connect(tmp_path / "alphadesk-demo.db") as conn:
            fills = conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/api/v1/analytics", headers=headers) as answer:
                assert answer.status == 200
                analytics = await answer.json()
            async with http.get(f"{url}/api/v1/analytics") as refused:  # no login, no figures
                assert refused.status == 401
        assert fills > 0 and analytics["total_fills"] == fills
        assert token not in json_text(analytics)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 0
    # LOG_FORMAT unset and stderr a file, not a terminal: a person's command still logs text
    # lines (time, level, logger), not JSON between the lines of its report
    logged = (tmp_path / "demo.err").read_text().splitlines()
    assert any(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO alphadesk\.", line)
               for line in logged), logged[-20:]
    assert not [line for line in logged if line.startswith("{")], logged[-20:]


def json_text(value: object) -> str:
    import json

    return json.dumps(value)
