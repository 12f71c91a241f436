"""The demo's closing checks over the replayed period: a history sync and a reconcile.

Both as their own commands run them (``alphadesk sync backfill``, ``alphadesk reconcile``),
against each account's simulator: the sync goes through a recorder of its own and should add
nothing (the listener recorded every execution already); the reconcile is read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from alphadesk.adapters.bybit import BybitClient, RetryPolicy
from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.bybit.history import History, SyncHistory
from alphadesk.adapters.bybit.parse import VENUE
from alphadesk.adapters.bybit.reconcile_view import BybitAccountView
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.storage.order_reads import open_orders
from alphadesk.adapters.storage.sync_status import open_sync_status
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore, RoundTripStore
from alphadesk.engine.reconcile import Reconciler, Report
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.engine.sync import AccountTotals, SyncAccount, Syncer


async def sync_accounts(database_url: str, spool_dir: Path, specs: Sequence[AccountSpec],
                        state: MemoryState | RedisState, store: LedgerStore,
                        trips: RoundTripStore, period: tuple[datetime, datetime],
                        clock: Callable[[], datetime]) -> list[AccountTotals]:
    """``alphadesk sync backfill`` over the replayed period, through a recorder of its own:
    every execution is the listener's already, so it adds nothing."""
    status = await open_sync_status(database_url)
    spool = DiskSpool(spool_dir)
    rests: list[BybitRest] = []
    try:
        recorder = FillRecorder(FillWriter(store), spool, bus=state.bus,
                                positions=state.positions, markets=state.market,
                                alerts=state.bus, trades=RoundTripKeeper(store, trips))
        accounts = []
        for spec in specs:
            rest = BybitRest(spec.config, policy=RetryPolicy(max_attempts=12))
            rests.append(rest)
            await rest.sync_clock()
            history = History(rest, default_bot=spec.default_bot)
            accounts.append(SyncAccount(spec.default_bot, SyncHistory(history, rest)))
        syncer = Syncer(recorder, status, clock=clock, round_trips=trips)
        return await syncer.backfill(accounts, *period)
    finally:
        for rest in rests:
            await rest.close()
        spool.close()
        await status.close()


async def reconcile_accounts(database_url: str, specs: Sequence[AccountSpec],
                             store: LedgerStore, period: tuple[datetime, datetime],
                             clock: Callable[[], datetime]) -> list[Report]:
    """``alphadesk reconcile`` over the replayed period, read-only."""
    writer = FillWriter(store)
    reports = []
    for spec in specs:
        client = await BybitClient.connect(spec.config, trading=False)
        try:
            reconciler = Reconciler(
                VENUE, BybitAccountView(client), writer, spec.bots, clock=clock,
                ledger_orders=lambda account: open_orders(database_url, VENUE, account),
            )  # fmt: skip
            reports.append(await reconciler.run(*period))
        finally:
            await client.close()
    return reports
