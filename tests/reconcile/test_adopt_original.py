"""Coming from the original platform: ``alphadesk db upgrade`` on its ``trading_db`` moves the
original tables untouched into schema ``legacy``, creates AlphaDesk's schema, carries the bots
over, keeps the original's completed trades as corrected reference rows, and ``alphadesk sync
backfill`` then rebuilds the true fills from the (simulated) venue: nothing from ``legacy`` is
lost and no fill is doubled. On a real PostgreSQL database of its own, through PgBouncer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, RetryPolicy, Secret
from alphadesk.app import cli
from alphadesk.domain import order_link
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount, run_simulator
from harness import postgres as pgh
from harness.postgres import PgServer

SCHEMA = Path(__file__).parents[1] / "fixtures" / "original_platform" / "schema.sql"
BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
KEY, SECRET = "ADOPT001", "adopt-secret-0123456789"
BOT = "shortseller_001"
FAST = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.2, max_resyncs=2)
ORIGINAL_TABLES = ("bots", "fills", "orders", "positions", "position_entries",
                   "completed_trades", "sync_status")
ORIGINAL_VIEWS = ("completed_trades_summary", "current_positions", "daily_performance",
                  "trades_pnl")

# One row of each defect the original wrote (seed_system.md §4, §5, §7, §9, §10).
DEFECT_ROWS = """
INSERT INTO trading.bots (bot_id, bot_name, bot_type, strategy_name, status, deployment_mode,
                          initial_capital, current_equity, last_heartbeat) VALUES
 ('shortseller_001', 'Multi-Asset EMA Crossover Bot', 'shortseller', 'EMA 240/600 Crossover',
  'active', 'demo', 10000, 7415.98872066, '2025-11-07 01:55:02+00'),
 ('lxalgo_001', 'LX Technical Analysis Bot', 'lxalgo', 'LX Multi-Indicator Strategy', 'active',
  'demo', 10000, 10000, NULL),
 ('momentum_001', 'Volatility Breakout Momentum Bot', 'momentum', '4H Volatility Breakout',
  'paused', 'demo', 10000, 4992.48014699, NULL);
-- no execution id, commission 0: a bot-written row (signal price, synthetic order id), the
-- listener's duplicate of the same execution under 'unknown', funding stored as a trade, and a
-- TP/SL exit the listener filed under 'unknown' with a hex client id
INSERT INTO trading.fills (bot_id, symbol, order_id, client_order_id, side, exec_price, exec_qty,
                           exec_time, close_reason, commission) VALUES
 ('shortseller_001', 'BTCUSDT', 'ss-1730000000', 'shortseller_001:entry:1730000000', 'Sell',
  68000, 0.01, '2025-10-27 03:33:20+00', 'entry', 0),
 ('unknown', 'BTCUSDT', 'ss-1730000000', '', 'Sell', 68012.5, 0.01,
  '2025-10-27 03:33:20.431+00', '', 0),
 ('unknown', 'BTCUSDT', '', '', 'Sell', 68100, 0.01, '2025-10-27 08:00:00+00', '', 0),
 ('unknown', 'SOLUSDT', '4f1c2e9a-77aa-4b0c-9d2e-1a2b3c4d5e6f', 'a3f9c1d2e4b5', 'Sell', 150.5,
  3, '2025-10-28 10:00:00+00', 'a3f9c1d2e4b5', 0);
INSERT INTO trading.orders (bot_id, symbol, order_id, client_order_id, order_type, side,
                            quantity, price, status) VALUES
 ('unknown', 'BTCUSDT', 'tpsl-1', '', 'Market', 'Buy', 0.01, 0, 'Untriggered'),
 ('lxalgo_001', 'SOLUSDT', 'lx-1', 'lxalgo_001:entry:1761645600000', 'Market', 'Buy', 3, NULL,
  'Filled');
-- one venue position copied to every active bot, avg_entry_price always NULL
INSERT INTO trading.positions (bot_id, symbol, size, side, avg_entry_price) VALUES
 ('shortseller_001', 'BTCUSDT', 0.01, 'Sell', NULL),
 ('lxalgo_001', 'BTCUSDT', 0.01, 'Sell', NULL);
INSERT INTO trading.position_entries (bot_id, symbol, entry_id, entry_price, original_qty,
                                      remaining_qty, entry_time, entry_fill_id, status) VALUES
 ('lxalgo_001', 'SOLUSDT', 'lxalgo_001:SOLUSDT:1761645600.123', 150.5, 3, 1.5,
  '2025-10-28 10:00:00+00', (SELECT max(id) FROM trading.fills), 'partially_closed');
INSERT INTO trading.sync_status (bot_id, sync_type, start_time, end_time, trades_synced, status,
                                 error_message) VALUES
 ('momentum_001', 'backfill', '2025-08-01+00', '2025-08-02+00', 0, 'failed',
  'Your api key has expired'),
 ('lxalgo_001', 'backfill', '2025-08-01+00', '2025-08-02+00', 12, 'completed', NULL);
-- the closed-pnl mapper stored the closing side as the entry side (a short filed as a long and
-- a long filed as a short); a FIFO row (entry forced to Buy) and a migrate-script row are not
-- the mapper's
INSERT INTO trading.completed_trades (trade_id, bot_id, symbol, entry_order_id, entry_side,
    entry_price, entry_qty, entry_time, entry_reason, exit_order_id, exit_side, exit_price,
    exit_qty, exit_time, exit_reason, gross_pnl, net_pnl, pnl_pct, total_commission,
    holding_duration_seconds, source) VALUES
 ('shortseller_001_BTCUSDT_1730000000000', 'shortseller_001', 'BTCUSDT', 'o-1', 'Buy', 68000,
  0.1, '2025-10-27 03:33:20+00', 'long_entry', 'o-1', 'Sell', 67000, 0.1,
  '2025-10-27 03:33:21+00', 'long_exit', 100, 92.52, 1.36, 7.48, 1, 'bybit_api'),
 ('lxalgo_001_SOLUSDT_1761645600000', 'lxalgo_001', 'SOLUSDT', 'o-2', 'Sell', 150, 3,
  '2025-10-28 10:00:00+00', 'short_entry', 'o-2', 'Buy', 160, 3, '2025-10-28 10:00:01+00',
  'short_exit', 30, 29.5, 6.55, 0.5, 1, 'bybit_api'),
 ('lxalgo_001:SOLUSDT:1761645600:1761649200', 'lxalgo_001', 'SOLUSDT', NULL, 'Buy', 150.5, 1.5,
  '2025-10-28 10:00:00+00', 'entry', NULL, 'Sell', 151, 1.5, '2025-10-28 11:00:00+00',
  'risk_management', 0.75, 0.75, 0.33, 0, 3600, 'bybit_api'),
 ('lxalgo_001_SOLUSDT_1761649999999', 'lxalgo_001', 'SOLUSDT', NULL, 'Buy', 150, 1,
  '2025-10-28 12:00:00+00', 'entry', NULL, 'Sell', 151, 1, '2025-10-28 13:00:00+00',
  'exit', 1, 1, 0.66, 0, 3600, 'manual');
"""


def restorable(dump: str) -> str:
    """The dump as one script for asyncpg: psql's meta-commands and the ownership statements
    (role ``trading_user`` does not exist here; psql would print and skip them) left out."""
    kept = [line for line in dump.splitlines()
            if not line.startswith("\\") and not re.match(r"^ALTER .* OWNER TO \w+;$", line)]
    return "\n".join(kept)


async def digests(conn: asyncpg.Connection, schema: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of every row's text, per original table."""
    found = {}
    for table in ORIGINAL_TABLES:
        found[table] = tuple(await conn.fetchrow(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            f" FROM {schema}.{table} t"
        ))
    return found


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[Any]:
    account = SimAccount(KEY, SECRET, name="shortseller", balance=Decimal(1_000_000))
    async with run_simulator([market_csv(BTC_5M)], [account], history_bars=300) as running:
        yield running


async def market(sim: Any, side: Side, qty: str) -> None:
    config = AccountConfig("shortseller", KEY, Secret(SECRET), Environment.DEMO,
                           base_url=sim.base_url)
    async with BybitClient(config, policy=FAST) as client:
        await client.rest.sync_clock()
        await client.trading.create_order(OrderRequest(
            bot_id=BOT, symbol="BTCUSDT", side=side, qty=Decimal(qty),
            order_link_id=order_link.encode(BOT, order_link.Purpose.ENTRY),
            order_type=OrderType.MARKET,
        ))


def sim_exec_ids(sim: Any) -> set[str]:
    engine = sim.exchange.engine
    ids: set[str] = set()
    cursor = ""
    while True:
        page = engine.executions("shortseller", limit=100, cursor=cursor)
        ids.update(e.fill.exec_id for e in page.items)
        cursor = page.next_cursor
        if not cursor:
            return ids


@pytest.mark.postgres
async def test_the_original_platform_is_adopted_then_backfilled_without_loss_or_doubles(
    pg_server: PgServer, sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pgh.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as db:
        conn = await asyncpg.connect(db.direct_dsn)
        try:
            await conn.execute(restorable(SCHEMA.read_text(encoding="utf-8")))
            await conn.execute(DEFECT_ROWS)
            before = await digests(conn, "trading")
        finally:
            await conn.close()
        for name in ("REDIS_URL", "ALPHADESK_CONFIG", "BYBIT_TESTNET", "LXALGO_BYBIT_API_KEY",
                     "LXALGO_BYBIT_API_SECRET", "MOMENTUM_BYBIT_API_KEY",
                     "MOMENTUM_BYBIT_API_SECRET"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", db.bouncer_dsn)

        code = await asyncio.to_thread(cli.main, ["db", "upgrade"])
        captured = capsys.readouterr()
        out = captured.out
        assert code == 0, captured
        assert "moved 7 tables, 4 views, 1 function untouched into schema 'legacy'" in out
        assert "carried 3 bots over into trading.bots" in out
        assert "kept 4 completed trades" in out and "2 with inverted sides corrected" in out
        assert "alphadesk sync backfill" in out
        assert "upgraded to 0001" in out

        conn = await asyncpg.connect(db.direct_dsn)
        try:
            assert await digests(conn, "legacy") == before  # every original row, untouched
            views = {r[0] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.views WHERE table_schema = 'legacy'")}
            assert views == set(ORIGINAL_VIEWS)
            # the views still read their (moved) tables, the trigger its (moved) function
            summary = "SELECT sum(total_trades) FROM legacy.completed_trades_summary"
            assert await conn.fetchval(summary) == 4
            trial = conn.transaction()  # the trigger still fires; rolled back, rows untouched
            await trial.start()
            stamped = await conn.fetchval(
                "UPDATE legacy.position_entries SET remaining_qty = 1 RETURNING updated_at")
            assert stamped == await conn.fetchval("SELECT CURRENT_TIMESTAMP")
            await trial.rollback()
            bots = await conn.fetch("SELECT bot_id, status, deployment_mode, initial_capital,"
                                    " current_equity FROM trading.bots ORDER BY bot_id")
            assert [tuple(b) for b in bots] == [
                ("lxalgo_001", "active", "demo", Decimal("10000.00000000"),
                 Decimal("10000.00000000")),
                ("momentum_001", "paused", "demo", Decimal("10000.00000000"),
                 Decimal("4992.48014699")),
                ("shortseller_001", "active", "demo", Decimal("10000.00000000"),
                 Decimal("7415.98872066")),
            ]
            corrected = {r["trade_id"]: r for r in await conn.fetch(
                "SELECT * FROM legacy.completed_trades_corrected")}
            short = corrected["shortseller_001_BTCUSDT_1730000000000"]
            assert (short["entry_side"], short["exit_side"]) == ("Sell", "Buy")
            assert (short["entry_reason"], short["exit_reason"]) == ("short_entry", "short_exit")
            assert short["sides_corrected"] and short["original_entry_side"] == "Buy"
            assert short["net_pnl"] == Decimal("92.52000000")  # figures are kept as they were
            long = corrected["lxalgo_001_SOLUSDT_1761645600000"]
            assert (long["entry_side"], long["sides_corrected"]) == ("Buy", True)
            for kept in ("lxalgo_001:SOLUSDT:1761645600:1761649200",
                         "lxalgo_001_SOLUSDT_1761649999999"):  # FIFO and manual rows
                row = corrected[kept]
                assert (row["entry_side"], row["sides_corrected"]) == ("Buy", False)
            # nothing of the original became a fill or a round trip
            assert await conn.fetchval("SELECT count(*) FROM trading.fills") == 0
            assert await conn.fetchval("SELECT count(*) FROM trading.completed_trades") == 0
        finally:
            await conn.close()

        # a second upgrade finds AlphaDesk's schema: nothing moved again
        code = await asyncio.to_thread(cli.main, ["db", "upgrade"])
        out = capsys.readouterr().out
        assert code == 0 and "nothing to apply" in out and "legacy" not in out

        # the true fills, from the venue, through the entrance
        for side, qty in ((Side.SELL, "0.02"), (Side.BUY, "0.01"), (Side.BUY, "0.01")):
            await market(sim, side, qty)
        expected = sim_exec_ids(sim)
        assert len(expected) == 3
        monkeypatch.setenv("SHORTSELLER_BYBIT_API_KEY", KEY)
        monkeypatch.setenv("SHORTSELLER_BYBIT_API_SECRET", SECRET)
        monkeypatch.setenv("BYBIT_DEMO", "true")
        monkeypatch.setenv("BYBIT_BASE_URL", sim.base_url)
        backfill = ["sync", "backfill", "--months", "24", "--bot", BOT,
                    "--spool-dir", str(tmp_path / "spool")]
        for _ in range(2):  # a repeated backfill adds nothing
            code = await asyncio.to_thread(cli.main, backfill)
            assert code == 0, capsys.readouterr()
        conn = await asyncpg.connect(db.direct_dsn)
        try:
            rows = await conn.fetch("SELECT exec_id, bot_id, commission FROM trading.fills")
            assert sorted(r["exec_id"] for r in rows) == sorted(expected)  # each once
            assert {r["bot_id"] for r in rows} == {BOT}
            assert all(r["commission"] > 0 for r in rows)  # the venue's real fees
            assert await digests(conn, "legacy") == before
        finally:
            await conn.close()
        # and the rebuilt ledger agrees with the venue: positions, orders, fills, closed PnL
        now = from_epoch_ms("sim.now", sim.now_ms)
        code = await asyncio.to_thread(cli.main, [
            "reconcile", "--bot", "shortseller", "--state-dir", str(tmp_path / "state"),
            "--since", (now - timedelta(days=1)).isoformat(),
            "--until", (now + timedelta(days=1)).isoformat(),
        ])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "shortseller: ledger and venue agree" in out


@pytest.mark.postgres
async def test_an_occupied_legacy_schema_stops_the_adoption_and_changes_nothing(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    async with pgh.temporary_database(pg_server.direct_dsn, pg_server.bouncer_dsn) as db:
        conn = await asyncpg.connect(db.direct_dsn)
        try:
            await conn.execute(restorable(SCHEMA.read_text(encoding="utf-8")))
            await conn.execute(DEFECT_ROWS)
            await conn.execute("CREATE SCHEMA legacy; CREATE TABLE legacy.notes (t text)")
            before = await digests(conn, "trading")
        finally:
            await conn.close()
        monkeypatch.setenv("DATABASE_URL", db.bouncer_dsn)
        code = await asyncio.to_thread(cli.main, ["db", "upgrade"])
        err = capsys.readouterr().err
        assert code == 2
        assert "schema 'legacy' already holds 1 objects" in err
        assert "Traceback" not in err
        conn = await asyncpg.connect(db.direct_dsn)
        try:  # the whole upgrade was one transaction: the original schema is as it was
            assert await digests(conn, "trading") == before
            assert await conn.fetchval("SELECT to_regclass('trading.alembic_version')") is None
        finally:
            await conn.close()
