"""The sync's windows and its status store (both backends): what resuming rests on."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.sync_status import (
    PostgresSyncStatus,
    SqliteSyncStatus,
    open_sync_status,
)
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.sync import WINDOW, covered, plan
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

MS = timedelta(milliseconds=1)


def test_windows_are_fixed_week_slices_contiguous_to_the_millisecond() -> None:
    start = datetime(2026, 9, 6, 3, 54, 12, 345000, tzinfo=UTC)
    end = start + timedelta(days=91)
    windows = plan(start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    for (_, a_end), (b_start, _) in itertools.pairwise(windows):
        assert b_start == a_end + MS  # no gap, no overlap
    for w_start, w_end in windows:
        assert w_end - w_start < WINDOW
    # the inner boundaries do not depend on where the period starts: a later start meets the
    # same windows, so completed rows of an earlier run still cover them
    later = plan(start + timedelta(days=2), end)  # a Sunday, then the Tuesday of that week
    assert later[0][1] == windows[0][1] and later[1:] == windows[1:]
    assert all(covered(w, windows) for w in later)
    assert not covered(windows[-1], [(windows[-1][0], windows[-1][1] - MS)])


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidField, match="sync.end"):
        plan(now, now - MS)


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def status_store(
    request: pytest.FixtureRequest, tmp_path: Path, service_endpoints: ServiceEndpoints
) -> AsyncIterator[PostgresSyncStatus | SqliteSyncStatus]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        store = await open_sync_status(url)
        await _bot(store, url)
        yield store
        await store.close()
        return
    require(service_endpoints.postgres, service_endpoints.pgbouncer)
    async with pgh.temporary_database(service_endpoints.postgres.url,
                                      service_endpoints.pgbouncer.url) as db:
        await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        store = await open_sync_status(db.bouncer_dsn)
        await _bot(store, db.bouncer_dsn)
        yield store
        await store.close()


async def _bot(store: object, url: str) -> None:
    from decimal import Decimal

    from alphadesk.adapters.storage.bots import open_bots
    from alphadesk.engine.bot_registry import BotRecord

    bots = await open_bots(url)
    await bots.register(BotRecord("bot_a", "bot_a", "s", "s", "stopped", "demo", Decimal(0)))
    await bots.close()


async def test_status_rows_begin_finish_resume_and_abandon(
    status_store: PostgresSyncStatus | SqliteSyncStatus,
) -> None:
    store = status_store
    t0 = datetime(2026, 9, 7, tzinfo=UTC)
    w1 = (t0, t0 + WINDOW - MS)
    w2 = (t0 + WINDOW, t0 + 2 * WINDOW - MS)
    row = await store.begin("bot_a", "backfill", *w1, t0)
    await store.finish(row, status="completed", added=12, error=None, at=t0, duration_s=0.5)
    second = await store.begin("bot_a", "backfill", *w2, t0 + MS)  # killed in flight
    assert await store.completed("bot_a") == [w1]
    assert await store.abandon_running("bot_a", t0 + 2 * MS) == 1
    again = await store.begin("bot_a", "backfill", *w2, t0 + 3 * MS)  # read again: same row
    assert again == second
    await store.finish(again, status="completed", added=3, error=None, at=t0 + 4 * MS,
                       duration_s=0.25)
    assert sorted(await store.completed("bot_a")) == [w1, w2]
    recent = await store.recent("bot_a", 10)
    assert [(r.start_time, r.status, r.trades_synced) for r in recent] == [
        (w2[0], "completed", 3), (w1[0], "completed", 12)]
    assert recent[0].sync_completed_at == t0 + 4 * MS and recent[0].error_message is None
    assert await store.completed("nobody") == []
