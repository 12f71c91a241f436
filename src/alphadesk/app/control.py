"""Builds the control facade (:class:`alphadesk.engine.control.Control`) from the settings.

The one place Telegram, the ``alphadesk control`` CLI and the web dashboard get a facade from,
so they all read the same ledger and live state the same way::

    async with open_control(settings) as control:
        status = await control.status()

The ledger reads come from ``DATABASE_URL`` (PostgreSQL or SQLite); positions, marks, bot status
and the command streams from Redis when ``REDIS_URL`` is set, else from an in-process state
(``state=`` lets an embedded caller such as the demo pass its own). The read-only reconcile uses
the bots' API keys, if any, with ``trading=False`` clients (nothing can be ordered through them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.adapters.storage.control_reads import open_control_ledger
from alphadesk.adapters.storage.listener_health import ListenerHealthFile
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.sync_status import open_sync_status
from alphadesk.app.settings import Settings
from alphadesk.engine.control import Control
from alphadesk.engine.reconcile import Report

DEFAULT_HEALTH_FILE = Path("listener-health.json")


@dataclass
class VenueReconcile:
    """The read-only reconcile of the bots' accounts over the last ``days`` (never repairs)."""

    settings: Settings
    url: str
    days: float = 7.0
    window: tuple[datetime, datetime] | None = None
    """A fixed (since, until) instead of the last ``days`` by the venue's clock."""

    async def compare(self, bot_ids: Sequence[str]) -> list[Report]:
        from alphadesk.adapters.bybit import BybitClient
        from alphadesk.adapters.bybit.parse import VENUE
        from alphadesk.adapters.bybit.reconcile_view import BybitAccountView
        from alphadesk.adapters.storage.order_reads import open_orders
        from alphadesk.app.listener import accounts_from_settings
        from alphadesk.domain.checks import from_epoch_ms
        from alphadesk.engine.reconcile import Reconciler

        wanted = set(bot_ids)
        specs = [s for s in accounts_from_settings(self.settings) if wanted & set(s.bots)]
        if not specs:
            return []
        store = await open_store(self.url)
        reports: list[Report] = []
        try:
            for spec in specs:
                client = await BybitClient.connect(spec.config, trading=False)
                try:
                    if self.window is not None:
                        start, end = self.window
                    else:
                        end = from_epoch_ms("venue clock", client.rest.clock.now_ms())
                        start = end - timedelta(days=self.days)
                    reconciler = Reconciler(
                        VENUE, BybitAccountView(client), store, spec.bots,
                        ledger_orders=lambda account: open_orders(self.url, VENUE, account),
                    )  # fmt: skip
                    reports.append(await reconciler.run(start, end))
                finally:
                    await client.close()
        finally:
            await store.close()
        return reports


@asynccontextmanager
async def open_control(
    settings: Settings,
    *,
    database_url: str | None = None,
    namespace: str = "",
    health_file: Path | None = DEFAULT_HEALTH_FILE,
    state: Any = None,
    reconcile_window: tuple[datetime, datetime] | None = None,
) -> AsyncIterator[Control]:
    """A facade over the ledger at ``database_url`` (default the settings') and the live state;
    everything it opened is closed on exit."""
    url = database_url or settings.database_url
    unreachable = ""
    async with AsyncExitStack() as stack:
        if state is None:
            if settings.redis_url:
                state = RedisState.from_url(settings.redis_url, namespace=namespace)
                stack.push_async_callback(state.aclose)
            else:
                state = MemoryState()
                unreachable = (
                    "REDIS_URL is not set: commands reach bots in other processes through "
                    "Redis only (in-process commands need the bots in the same process)"
                )
        ledger = await open_control_ledger(url)
        stack.push_async_callback(ledger.close)
        fills = await open_store(url)
        stack.push_async_callback(fills.close)
        trips = await open_round_trips(url)
        stack.push_async_callback(trips.close)
        audit = await open_audit(url)
        stack.push_async_callback(audit.close)
        sync = await open_sync_status(url)
        stack.push_async_callback(sync.close)
        has_keys = any(b.has_credentials for b in settings.bots)
        yield Control(
            ledger=ledger,
            fills=fills,
            trips=trips,
            audit=audit,
            live_positions=state.positions,
            markets=state.market,
            bot_status=state.bots,
            commands=state.bus,
            bars=state.bus.bars,
            sync=sync,
            health_source=ListenerHealthFile(health_file) if health_file is not None else None,
            venue=VenueReconcile(settings, url, window=reconcile_window) if has_keys else None,
            commands_unreachable=unreachable,
        )
