"""Real outages: PgBouncer and Redis behind a TCP proxy that the test takes down and brings back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio
from listener_support import BOT, fills, redis_state, sqlite_ledger
from redis.asyncio import Redis
from tcp_proxy import TcpProxy

from alphadesk.adapters.spool import DiskSpool, decode_fill
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.ledger import FillWriter
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)
    netloc = f"{host[0]}@127.0.0.1:{port}" if len(host) == 2 else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest_asyncio.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_redis_down_ledger_keeps_writing_and_state_is_rebuilt(
    tmp_path: Path, redis_url: str, redis_prefix: str, redis_proxy: TcpProxy
) -> None:
    ledger = await sqlite_ledger(tmp_path / "l.db")
    client = Redis.from_url(_via(redis_url, redis_proxy.port), socket_connect_timeout=0.5,
                            socket_timeout=0.5)
    state = redis_state(client, redis_prefix)
    spool = DiskSpool(tmp_path / "spool")
    ingest = Ingest(ledger.writer, spool, bus=state.bus, positions=state.positions,
                    state_retry_s=0.0)
    batch = fills(6)
    await ingest.ingest(batch[:2])
    await redis_proxy.stop()
    await ingest.ingest(batch[2:5])  # Redis is down: the ledger is still written
    assert await ledger.exec_ids() == [f.exec_id for f in batch[:5]]
    assert ingest.stats.publish_failures >= 1 and ingest.stats.state_failures >= 1
    assert ingest.pending_state > 0 and spool.depth().records == 0

    await redis_proxy.start()
    await ingest.ingest(batch[5:])
    direct = Redis.from_url(redis_url)
    entries = await direct.xrange(state.keys.fills_stream)
    assert [decode_fill(f[b"data"]).exec_id for _, f in entries] == [f.exec_id for f in batch]
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("0.06") and position.seq == 6
    assert ingest.pending_state == 0
    await direct.aclose()
    await client.aclose()
    spool.close()
    await ledger.store.close()


@pytest.mark.postgres
async def test_pgbouncer_down_spools_then_replays(
    tmp_path: Path, service_endpoints: ServiceEndpoints, redis_url: str, redis_prefix: str
) -> None:
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    bouncer = urlsplit(service_endpoints.pgbouncer.url)
    proxy = TcpProxy(bouncer.hostname or "127.0.0.1", bouncer.port or 6432)
    await proxy.start()
    client = Redis.from_url(redis_url)
    state = redis_state(client, redis_prefix)
    async with pgh.temporary_database(
        service_endpoints.postgres.url, service_endpoints.pgbouncer.url
    ) as db:
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        store = await PostgresLedger.connect(_via(db.bouncer_dsn, proxy.port))
        spool = DiskSpool(tmp_path / "spool")
        ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,
                        db_retry_s=0.0)
        batch = fills(8)
        await ingest.ingest(batch[:2])
        await proxy.stop()
        assert (await ingest.ingest(batch[2:6])).spooled == 4
        assert await client.xlen(state.keys.fills_stream) == 2  # nothing uncommitted announced
        await proxy.start()
        await ingest.ingest(batch[6:])
        assert spool.depth().records == 0
        rows = await store.read_fills()
        assert [f.exec_id for f in rows] == [f.exec_id for f in batch]
        assert await client.xlen(state.keys.fills_stream) == 8
        spool.close()
        await store.close()
    await client.aclose()
    await proxy.stop()
