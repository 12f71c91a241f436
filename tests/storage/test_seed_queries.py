"""The seed README's SQL runs UNCHANGED on the PostgreSQL schema and gives the right numbers.

Each query below is copied character for character from the seed's PLATFORM_README.md (the
"Query Examples" under PostgreSQL, and "Database Queries" under Monitoring & Analytics); a test
checks that each still appears verbatim in that file when $ALPHADESK_SEED_README names it (the
file is reference material, not part of the repository). The data are
real-looking fills (prices, sizes and 0.055 % taker fees of the kind Bybit reports), written
through the fill writer via PgBouncer, plus a funding payment that must not count as a trade.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from ledger_support import MakeFill

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.domain.fills import Fill
from alphadesk.engine.ledger import FillWriter
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

pytestmark = pytest.mark.postgres
SEED_README_ENV = "ALPHADESK_SEED_README"

GET_TRADES_PER_STRATEGY = """SELECT bot_id, COUNT(*) as trades, SUM(exec_price * exec_qty) as volume
FROM trading.fills
GROUP BY bot_id;"""

RECENT_FILLS = """SELECT * FROM trading.fills
ORDER BY exec_time DESC
LIMIT 10;"""

DAILY_PNL_BY_STRATEGY = """SELECT
    bot_id,
    DATE(exec_time) as date,
    SUM(CASE WHEN side = 'Buy' THEN -exec_price * exec_qty ELSE exec_price * exec_qty END) as pnl
FROM trading.fills
GROUP BY bot_id, DATE(exec_time)
ORDER BY date DESC;"""

DAILY_PERFORMANCE = """SELECT
    DATE(exec_time) as date,
    COUNT(*) as trades,
    SUM(exec_price * exec_qty) as volume,
    COUNT(DISTINCT bot_id) as active_bots
FROM trading.fills
WHERE exec_time > NOW() - INTERVAL '7 days'
GROUP BY DATE(exec_time)
ORDER BY date DESC;"""

STRATEGY_COMPARISON = """SELECT
    bot_id,
    COUNT(*) as total_trades,
    COUNT(DISTINCT symbol) as symbols_traded,
    MIN(exec_time) as first_trade,
    MAX(exec_time) as last_trade
FROM trading.fills
GROUP BY bot_id;"""

SYMBOL_PERFORMANCE = """SELECT
    symbol,
    COUNT(*) as trades,
    SUM(exec_qty) as total_qty,
    AVG(exec_price) as avg_price
FROM trading.fills
GROUP BY symbol
ORDER BY trades DESC
LIMIT 10;"""

ALL_QUERIES = (
    GET_TRADES_PER_STRATEGY,
    RECENT_FILLS,
    DAILY_PNL_BY_STRATEGY,
    DAILY_PERFORMANCE,
    STRATEGY_COMPARISON,
    SYMBOL_PERFORMANCE,
)

# (bot, symbol, side, price, qty, days ago, hour): 4 BTC, 3 ETH, 2 SOL in the last 7 days.
TRADES = [
    ("shortseller_001", "BTCUSDT", "Sell", "95900.1", "0.071", 3, 4),
    ("shortseller_001", "BTCUSDT", "Buy", "95120.4", "0.071", 2, 9),
    ("lxalgo_001", "BTCUSDT", "Buy", "96010.0", "0.002", 2, 13),
    ("lxalgo_001", "BTCUSDT", "Sell", "96412.7", "0.002", 1, 7),
    ("shortseller_001", "ETHUSDT", "Sell", "3000.50", "2.07", 3, 6),
    ("shortseller_001", "ETHUSDT", "Buy", "2968.31", "2.07", 1, 11),
    ("lxalgo_001", "ETHUSDT", "Buy", "3011.02", "0.05", 1, 15),
    ("momentum_001", "SOLUSDT", "Buy", "187.23", "33.4", 2, 16),
    ("momentum_001", "SOLUSDT", "Sell", "191.877", "33.4", 1, 18),
]
OLD_TRADE = ("lxalgo_001", "XRPUSDT", "Buy", "2.4311", "61.7", 30, 12)  # outside the 7 days


def _fills(make_fill: MakeFill, today: date) -> list[Fill]:
    out = []
    for bot, symbol, side, price, qty, ago, hour in [*TRADES, OLD_TRADE]:
        at = datetime.combine(today - timedelta(days=ago), datetime.min.time(), UTC)
        at += timedelta(hours=hour, milliseconds=ago * 37)
        fee = (Decimal(price) * Decimal(qty) * Decimal("0.00055")).quantize(Decimal("0.00000001"))
        out.append(
            make_fill(
                bot_id=bot,
                at=at,
                symbol=symbol,
                side=side,
                execPrice=price,
                execQty=qty,
                execFee=str(fee),
                closedSize=qty if side == "Buy" and bot == "shortseller_001" else "0",
            )
        )
    return out


@pytest_asyncio.fixture
async def seeded(
    service_endpoints: ServiceEndpoints, make_fill: MakeFill
) -> AsyncIterator[tuple[asyncpg.Connection, list[Fill]]]:
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    async with pgh.temporary_database(
        service_endpoints.postgres.url, service_endpoints.pgbouncer.url
    ) as db:
        admin = await asyncpg.connect(db.direct_dsn)
        try:  # DATE(timestamptz) follows the session time zone; the ledger's days are UTC days
            await admin.execute(f"ALTER DATABASE \"{db.name}\" SET timezone TO 'UTC'")
        finally:
            await admin.close()
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        store = await PostgresLedger.connect(db.bouncer_dsn)
        fills = _fills(make_fill, datetime.now(UTC).date())
        funding = make_fill(
            bot_id="shortseller_001",
            at=datetime.now(UTC) - timedelta(hours=1),
            execType="Funding",
            execPrice="95800",
            execQty="0.071",
            execFee="0.6802",
        )
        writer = FillWriter(store)
        result = await writer.write([*fills, funding])
        assert result.inserted_count == len(fills) + 1
        conn = await asyncpg.connect(db.bouncer_dsn, statement_cache_size=0)
        try:
            yield conn, fills
        finally:
            await conn.close()
            await store.close()


SEED_README = Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "PLATFORM_README.md"


def test_queries_are_verbatim_copies_of_the_seed_readme() -> None:
    where = os.environ.get(SEED_README_ENV)
    readme = Path(where) if where else SEED_README
    text = readme.read_text(encoding="utf-8")
    for query in ALL_QUERIES:
        assert query in text


def _recent(fills: list[Fill]) -> list[Fill]:
    cutoff = datetime.now(UTC) - timedelta(days=7)
    return [f for f in fills if f.exec_time > cutoff]


async def test_get_trades_per_strategy(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, fills = seeded
    rows = {r["bot_id"]: r for r in await conn.fetch(GET_TRADES_PER_STRATEGY)}
    expected: dict[str, list[Fill]] = defaultdict(list)
    for f in fills:
        expected[f.bot_id].append(f)
    assert set(rows) == {"lxalgo_001", "shortseller_001", "momentum_001"}
    for bot, group in expected.items():
        assert rows[bot]["trades"] == len(group)
        assert rows[bot]["volume"] == sum((f.price * f.qty for f in group), Decimal(0))
    assert rows["shortseller_001"]["trades"] == 4  # the funding payment is not a trade
    assert rows["momentum_001"]["volume"] == Decimal("12662.1738")


async def test_recent_fills(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, fills = seeded
    rows = await conn.fetch(RECENT_FILLS)
    newest = sorted(fills, key=lambda f: f.exec_time, reverse=True)[:10]
    assert [r["exec_id"] for r in rows] == [f.exec_id for f in newest]
    assert rows[0]["exec_price"] == Decimal("191.877") and rows[0]["side"] == "Sell"
    assert rows[0]["commission"] == newest[0].fee
    assert rows[0]["client_order_id"] == "test-order-link-001"


async def test_daily_pnl_by_strategy(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, fills = seeded
    rows = await conn.fetch(DAILY_PNL_BY_STRATEGY)
    expected: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for f in fills:
        sign = -1 if f.side == "Buy" else 1
        expected[(f.bot_id, f.exec_time.date())] += sign * f.price * f.qty
    assert {(r["bot_id"], r["date"]): r["pnl"] for r in rows} == dict(expected)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    today = datetime.now(UTC).date()
    momentum = {r["date"]: r["pnl"] for r in rows if r["bot_id"] == "momentum_001"}
    assert momentum == {
        today - timedelta(days=2): Decimal("-6253.482"),
        today - timedelta(days=1): Decimal("6408.6918"),
    }


async def test_daily_performance(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, fills = seeded
    rows = await conn.fetch(DAILY_PERFORMANCE)
    today = datetime.now(UTC).date()
    by_day: dict[date, list[Fill]] = defaultdict(list)
    for f in _recent(fills):
        by_day[f.exec_time.date()].append(f)
    assert [r["date"] for r in rows] == [today - timedelta(days=d) for d in (1, 2, 3)]
    for row in rows:
        group = by_day[row["date"]]
        assert row["trades"] == len(group)
        assert row["volume"] == sum((f.price * f.qty for f in group), Decimal(0))
        assert row["active_bots"] == len({f.bot_id for f in group})
    assert [r["trades"] for r in rows] == [4, 3, 2]
    assert [r["active_bots"] for r in rows] == [3, 3, 1]


async def test_strategy_comparison(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, fills = seeded
    rows = {r["bot_id"]: r for r in await conn.fetch(STRATEGY_COMPARISON)}
    lx = [f for f in fills if f.bot_id == "lxalgo_001"]
    assert rows["lxalgo_001"]["total_trades"] == 4
    assert rows["lxalgo_001"]["symbols_traded"] == 3
    assert rows["lxalgo_001"]["first_trade"] == min(f.exec_time for f in lx)
    assert rows["lxalgo_001"]["last_trade"] == max(f.exec_time for f in lx)
    assert rows["momentum_001"]["symbols_traded"] == 1
    assert rows["shortseller_001"]["total_trades"] == 4


async def test_symbol_performance(seeded: tuple[asyncpg.Connection, list[Fill]]) -> None:
    conn, _ = seeded
    rows = await conn.fetch(SYMBOL_PERFORMANCE)
    assert [(r["symbol"], r["trades"]) for r in rows] == [
        ("BTCUSDT", 4),
        ("ETHUSDT", 3),
        ("SOLUSDT", 2),
        ("XRPUSDT", 1),
    ]
    btc, eth = rows[0], rows[1]
    assert btc["total_qty"] == Decimal("0.146")
    assert abs(btc["avg_price"] - Decimal("95860.8")) < Decimal("1e-12")
    assert eth["total_qty"] == Decimal("4.19")
    assert abs(eth["avg_price"] - Decimal("2993.276666666666666667")) < Decimal("1e-12")
