"""``alphadesk listener --metrics-port``: a real listener process against the simulator, writing to
PostgreSQL through PgBouncer, scraped over HTTP. Fills written, the WebSocket-to-commit lag
histogram, REST calls, reconnects and the spool depth are on the page and move as fills flow."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families
from sim_support import BTC_5M, LAUNCH, eventually, market, sim_account, trader

from alphadesk.adapters.storage import migrate
from alphadesk.domain.enums import Side
from alphadesk.simulator import run_simulator
from harness.postgres import PgDatabase

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(port: int) -> Samples:
    """Every sample of the page, keyed by (name, sorted labels)."""
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=10),
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def rest_calls(samples: Samples) -> float:
    return sum(v for (name, _), v in samples.items() if name == "alphadesk_rest_calls_total")


async def _fills(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM trading.fills"))
    finally:
        await conn.close()


async def test_the_listeners_metrics_move_as_fills_flow(
    market_csv: Callable[[str], Path], tmp_path: Path, fresh_pg_database: PgDatabase,
) -> None:
    await asyncio.to_thread(migrate.upgrade, fresh_pg_database.bouncer_dsn)
    account = sim_account(1)
    port = free_port()
    async with run_simulator([market_csv(BTC_5M)], [account], history_bars=300) as sim:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BYBIT_API_KEY")}
        env.pop("REDIS_URL", None)
        env.update({
            "DATABASE_URL": fresh_pg_database.bouncer_dsn, "BYBIT_DEMO": "true",
            "BYBIT_BASE_URL": sim.base_url, "SHORTSELLER_BYBIT_API_KEY": account.key,
            "SHORTSELLER_BYBIT_API_SECRET": account.secret,
        })
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LAUNCH, "listener", "--symbols",
            "--health-file", str(tmp_path / "health.json"), "--spool-dir", str(tmp_path / "spool"),
            "--metrics-port", str(port),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        client = await trader(sim, account)
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert b"listener: recording shortseller" in line
            before = await scrape(port)
            assert value(before, "alphadesk_service_info", service="listener") == 1
            assert value(before, "alphadesk_fills_written_total") == 0
            assert value(before, "alphadesk_ws_commit_lag_seconds_count") == 0
            assert value(before, "alphadesk_ws_connected", account="shortseller") == 1
            assert value(before, "alphadesk_ws_reconnects_total", account="shortseller") == 0
            assert value(before, "alphadesk_spool_depth") == 0
            rest_before = rest_calls(before)
            assert rest_before > 0  # clock sync, key check, start-up gap-fill
            assert ("alphadesk_rest_rate_limit_waits_total",
                    (("account", "shortseller"),)) in before

            for side in (Side.BUY, Side.BUY, Side.SELL):
                await market(client, "shortseller_001", "BTCUSDT", side, "0.01")

            async def written(n: int) -> bool:
                return value(await scrape(port), "alphadesk_fills_written_total") == n

            await eventually(lambda: written(3), within_s=15)
            after = await scrape(port)
            assert await _fills(fresh_pg_database.direct_dsn) == 3
            frames = value(after, "alphadesk_ws_commit_lag_seconds_count")
            assert 1 <= frames <= 3  # one observation per frame that carried fills
            assert value(after, "alphadesk_ws_commit_lag_seconds_bucket", le="+Inf") == frames
            assert 0 <= value(after, "alphadesk_ws_commit_lag_seconds_sum") < 10 * frames
            assert value(after, "alphadesk_fills_duplicate_total") >= 0
            assert value(after, "alphadesk_healthy") == 1

            # The private socket is cut: a reconnect is counted, and the next fill still lands.
            sim.faults.drop_ws_after(1, channel="private")
            await market(client, "shortseller_001", "BTCUSDT", Side.SELL, "0.01")

            async def reconnected() -> bool:
                page = await scrape(port)
                return (value(page, "alphadesk_ws_reconnects_total", account="shortseller") >= 1
                        and value(page, "alphadesk_fills_written_total") == 4)

            await eventually(reconnected, within_s=30)

            async def asked_rest() -> bool:  # the reconnect's gap-fill reads the history
                page = await scrape(port)
                return rest_calls(page) > rest_before

            await eventually(asked_rest, within_s=15)
        finally:
            await client.close()
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 20)
            err = await proc.stderr.read() if proc.stderr else b""
        assert code == 0, err.decode()[-2000:]
        assert account.secret.encode() not in err


class _Lags:
    def __init__(self) -> None:
        self.seen: list[float] = []

    def frame_committed(self, lag_s: float) -> None:
        self.seen.append(lag_s)


class _Source:
    owes_gapfill = False


async def test_the_inbox_reports_each_fill_frames_lag_once_on_an_injected_clock(
    tmp_path: Path,
) -> None:
    """Frames are stamped as they are queued and told once their batch is durable; a frame
    without fills is not a lag sample."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from listener_support import sqlite_ledger

    from alphadesk.adapters.memory import MemorySpool
    from alphadesk.domain.fills import Fill
    from alphadesk.engine.inbox import Inbox
    from alphadesk.engine.ingest import Ingest

    ledger = await sqlite_ledger(tmp_path / "ledger.db")
    now = [100.0]
    lags = _Lags()
    inbox = Inbox(Ingest(ledger.writer, MemorySpool()), observer=lags, clock=lambda: now[0])

    def fill(n: int) -> Fill:
        return Fill(venue="bybit", account="acct1", exec_id=f"lag-{n}", bot_id="bot1",
                    symbol="BTCUSDT", side=Side.BUY, price=Decimal(95000), qty=Decimal("0.01"),
                    fee=Decimal("0.5"), exec_time=datetime(2025, 5, 3, 8, n, tzinfo=UTC))

    source = _Source()
    await inbox.put(source, [fill(1)])
    now[0] = 100.25
    await inbox.put(source, [fill(2), fill(3)])
    await inbox.put(source, [])  # a frame with no fill (an order update, say)
    now[0] = 101.0  # the batch commits "now"
    writer = asyncio.create_task(inbox.run())
    try:
        await eventually(lambda: len(lags.seen) == 2, within_s=10)
        await inbox.drain(5)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await ledger.store.close()
    assert lags.seen == [1.0, 0.75]
    assert not source.owes_gapfill
