"""Helpers shared by the ledger tests (a uniquely named module, so no clash with other areas)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore
from harness import data
from harness import postgres as pgh
from harness.services import ServiceEndpoints, require

VENUE = "bybit"
ACCOUNT = "386825804"


@dataclass
class Ledger:
    """A migrated ledger: the writer, its store, the URL Alembic used, and the backend's name."""

    backend: str
    url: str
    store: LedgerStore
    writer: FillWriter

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run ``sql`` with the backend's own driver (``$1`` on PostgreSQL, ``?`` on SQLite)."""
        if isinstance(self.store, PostgresLedger):
            async with self.store._pool.acquire() as conn:
                return [dict(r) for r in await conn.fetch(sql, *args)]
        assert isinstance(self.store, SqliteLedger)
        rows = await self.store._run(lambda c: c.execute(sql, args).fetchall())
        return [dict(r) for r in rows]

    async def count(self, table: str) -> int:
        rows = await self.fetch(f"SELECT count(*) AS n FROM trading.{table}")
        return int(rows[0]["n"])


async def migrated_pg(endpoints: ServiceEndpoints) -> AsyncIterator[pgh.PgDatabase]:
    require(endpoints.postgres, endpoints.pgbouncer)
    async with pgh.temporary_database(endpoints.postgres.url, endpoints.pgbouncer.url) as db:
        applied = await asyncio.to_thread(migrate.upgrade, db.bouncer_dsn)
        assert applied, "a fresh database must get at least one revision"
        yield db


_EXECUTION = data.bybit_payload("ws_account_execution")["data"][0]
_SEQ = itertools.count(1)


def fill_from_execution(
    execution: dict[str, Any], *, bot_id: str, venue: str = VENUE, account: str = ACCOUNT
) -> Fill:
    """A Fill from one Bybit V5 execution (WS or REST shape): strings become Decimal, ms UTC."""
    return Fill(
        venue=venue,
        account=account,
        exec_id=execution["execId"],
        bot_id=bot_id,
        symbol=execution["symbol"],
        side=execution["side"],
        price=Decimal(execution["execPrice"]),
        qty=Decimal(execution["execQty"]),
        fee=Decimal(execution["execFee"]),
        exec_time=from_epoch_ms("execTime", execution["execTime"]),
        exec_type=execution["execType"],
        fee_currency=execution.get("feeCurrency") or "USDT",
        is_maker=bool(execution["isMaker"]),
        order_id=execution["orderId"],
        order_link_id=execution["orderLinkId"],
        order_type=execution["orderType"],
        closed_size=Decimal(execution["closedSize"]),
    )


MakeFill = Callable[..., Fill]


def _as_dict(fill: Fill) -> dict[str, Any]:
    return {name: getattr(fill, name) for name in Fill.__dataclass_fields__}


def fill_builder() -> MakeFill:
    """Build a fill from the recorded execution, overriding any Bybit field by its wire name.

    Each call gets a unique execId (``<recorded id>-<n>``) unless ``execId`` is given; times may
    be given as ``at=datetime`` instead of ``execTime``.
    """

    def build(*, bot_id: str = "lxalgo_001", at: datetime | None = None, **fields: Any) -> Fill:
        execution = dict(_EXECUTION)
        execution["execId"] = f"{_EXECUTION['execId']}-{next(_SEQ)}"
        if at is not None:
            execution["execTime"] = str(int(at.timestamp() * 1000))
        execution.update(fields)
        if "execFee" not in fields and {"execQty", "execPrice"} & fields.keys():
            # the recorded fee is its own 0.5 BTC's: keep it the recorded rate of this notional
            fee = (Decimal(execution["execPrice"]) * Decimal(execution["execQty"])
                   * Decimal(execution["feeRate"]))  # fmt: skip
            execution["execFee"] = format(fee, "f")
        fill = fill_from_execution(execution, bot_id=bot_id)
        if at is not None:  # keep microseconds, which epoch ms cannot carry
            fill = Fill(**{**_as_dict(fill), "exec_time": at})
        return fill

    return build
