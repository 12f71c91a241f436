"""Builders for the listener tests: venue reports made from the recorded Bybit payloads.

Every report goes through the Bybit adapter's own decoding (``private_events``), so the tests
feed the ingest exactly what the listener gets from a real ``execution``/``position`` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.wire import decode
from alphadesk.adapters.bybit.ws_decode import PrivateEvent, private_events
from alphadesk.adapters.redis.bus import RedisEventBus
from alphadesk.adapters.redis.keys import Keys
from alphadesk.adapters.redis.market import RedisMarketStore
from alphadesk.adapters.redis.positions import RedisPositionStore
from alphadesk.adapters.spool import decode_fill
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.postgres import PostgresLedger
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.domain.fills import Fill
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.ports import LedgerStore
from harness import data

ACCOUNT = "acct_a"
BOT = "lxalgo_001"


class ManualClock:
    """A UTC clock the test moves (``clock=`` of the ingest): a grace period passes when the
    test says so, not after a sleep a busy machine may stretch."""

    def __init__(self, start: datetime = datetime(2025, 5, 3, 11, 6, 40, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

_EXEC_FRAME = data.bybit_payload("ws_account_execution")
_ADL_FRAME = data.bybit_payload("ws_account_execution_adl")
_POS_FRAME = data.bybit_payload("ws_account_position")
_ORDER_FRAME = data.bybit_payload("ws_account_order")
_WALLET_FRAME = data.bybit_payload("ws_account_wallet")
_SEQ = itertools.count(1)
T0 = 1_746_270_400_353  # the recorded execTime


def frame_bytes(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame).encode()


def decode_frame(frame: dict[str, Any], account: str = ACCOUNT) -> list[PrivateEvent]:
    return private_events(
        decode(frame_bytes(frame), w.WsMessage, "test"), account, default_bot=BOT
    )


def execution_row(**fields: Any) -> dict[str, Any]:
    """One ``execution`` row like the recorded one; a fresh execId unless given."""
    row = copy.deepcopy(_EXEC_FRAME["data"][0])
    row["execId"] = f"{row['execId'][:24]}-{next(_SEQ):08d}"
    row["orderLinkId"] = ""  # attributed to the account's default bot
    for key, value in fields.items():
        row[key] = str(value) if isinstance(value, (int, Decimal)) and key != "seq" else value
    if "execFee" not in fields and {"execQty", "execPrice"} & fields.keys():
        # the recorded fee is its own 0.5 BTC's: keep it the recorded rate of this row's notional
        with contextlib.suppress(ArithmeticError, TypeError):  # a test's deliberately bad number
            fee = Decimal(row["execPrice"]) * Decimal(row["execQty"]) * Decimal(row["feeRate"])
            row["execFee"] = format(fee, "f")
    return row


def execution_frame(rows: list[dict[str, Any]]) -> dict[str, Any]:
    frame = copy.deepcopy(_EXEC_FRAME)
    frame["data"] = rows
    return frame


def fills(n: int, *, start_ms: int = T0, side: str = "Buy", qty: str = "0.01",
          account: str = ACCOUNT, step_ms: int = 1000, **fields: Any) -> list[Fill]:
    rows = [
        execution_row(execTime=str(start_ms + i * step_ms), side=side, execQty=qty,
                      closedSize="0", **fields)
        for i in range(n)
    ]
    out = [e for e in decode_frame(execution_frame(rows), account) if isinstance(e, Fill)]
    assert len(out) == n
    return out


def adl_fill(account: str = ACCOUNT) -> Fill:
    frame = copy.deepcopy(_ADL_FRAME)
    frame["data"] = frame["data"][:1]
    frame["data"][0]["orderLinkId"] = ""
    (fill,) = [e for e in decode_frame(frame, account) if isinstance(e, Fill)]
    return fill


def position_frame(symbol: str, side: str, size: str) -> dict[str, Any]:
    frame = copy.deepcopy(_POS_FRAME)
    row = frame["data"][0]
    row.update({"symbol": symbol, "side": side, "size": size, "category": "linear"})
    frame["data"] = [row]
    return frame


def order_frame() -> dict[str, Any]:
    return copy.deepcopy(_ORDER_FRAME)


def wallet_frame() -> dict[str, Any]:
    return copy.deepcopy(_WALLET_FRAME)


@dataclass
class Ledger:
    backend: str
    store: LedgerStore
    writer: FillWriter
    url: str = ""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if isinstance(self.store, PostgresLedger):
            async with self.store._pool.acquire() as conn:
                return [dict(r) for r in await conn.fetch(sql, *args)]
        assert isinstance(self.store, SqliteLedger)
        rows = await self.store._run(lambda c: c.execute(sql, args).fetchall())
        return [dict(r) for r in rows]

    async def exec_ids(self, table: str = "fills") -> list[str]:
        rows = await self.fetch(f"SELECT exec_id FROM trading.{table} ORDER BY id")
        return [r["exec_id"] for r in rows]


async def sqlite_ledger(path: Path) -> Ledger:
    await asyncio.to_thread(migrate.upgrade, f"sqlite:///{path}")
    store = await SqliteLedger.connect(path)
    return Ledger("sqlite", store, FillWriter(store), f"sqlite:///{path}")


@dataclass
class State:
    client: Redis
    keys: Keys
    bus: RedisEventBus
    positions: RedisPositionStore
    markets: RedisMarketStore

    async def stream_ids(self) -> list[str]:
        """The exec ids announced on ``events:fills``, oldest first."""
        entries = await self.client.xrange(self.keys.fills_stream)
        return [decode_fill(fields[b"data"]).exec_id for _, fields in entries]


def redis_state(client: Redis, prefix: str) -> State:
    keys = Keys(namespace=prefix)
    return State(
        client,
        keys,
        RedisEventBus(client, keys),
        RedisPositionStore(client, keys),
        RedisMarketStore(client, keys),
    )
