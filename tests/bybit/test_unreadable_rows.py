"""One unreadable execution costs only itself: its frame's or page's other rows are delivered.

The rows are the recorded ``ws_account_execution`` item and siblings that differ from it in one
field only (``execType`` or ``execPrice``), as Bybit would send them in the same frame or page.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from alphadesk.adapters.bybit import BybitClient
from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.items import SkippedItem
from alphadesk.adapters.bybit.parse import fill_from_execution, linear_symbol
from alphadesk.adapters.bybit.wire import MalformedPayload, convert
from alphadesk.adapters.bybit.ws_decode import private_events
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill

from .simkit import KEY, SECRET, Collector
from .test_sim_ws import QUICK, buy

D = Decimal
RECORDED_EXEC_ID = "0ab1bdf7-4219-438b-b30a-32ec863018f7"


def recorded_row(bybit_payload: Any) -> dict[str, Any]:
    (row,) = bybit_payload("ws_account_execution")["data"]
    assert row["execId"] == RECORDED_EXEC_ID and row["execType"] == "Trade"
    return dict(row)


def sibling(row: dict[str, Any], **changed: Any) -> dict[str, Any]:
    assert set(changed) <= set(row)  # only fields Bybit really sends are changed
    return {**row, **changed}


def rows(bybit_payload: Any, bad_price: Any = "95900.1.0") -> list[dict[str, Any]]:
    row = recorded_row(bybit_payload)
    return [
        row,
        sibling(row, execType="MovePosition"),
        sibling(row, execType="UNKNOWN"),
        sibling(row, execPrice=bad_price),
    ]


@pytest.mark.parametrize(
    ("name", "moves"),
    [
        ("Trade", True),
        ("AdlTrade", True),
        ("BustTrade", True),
        ("BlockTrade", True),
        ("MovePosition", True),
        ("Delivery", True),
        ("Funding", False),
        ("Settle", False),
    ],
)
def test_exec_types_bybit_sends_on_linear(name: str, moves: bool) -> None:
    assert ExecType.parse(name).moves_position is moves


def test_unknown_exec_type_is_still_refused_by_the_domain() -> None:
    with pytest.raises(InvalidField, match="UNKNOWN"):
        ExecType.parse("UNKNOWN", "execution.execType")


@pytest.mark.parametrize("bad_price", ["95900.1.0", 95900.1, ""])
def test_one_frame_keeps_its_good_rows(bybit_payload: Any, bad_price: Any) -> None:
    frame = {**bybit_payload("ws_account_execution"), "data": rows(bybit_payload, bad_price)}
    msg = msgspec.json.decode(msgspec.json.encode(frame), type=w.WsMessage)
    skipped: list[SkippedItem] = []
    events = private_events(msg, "acct", skipped=skipped)
    assert [(e.exec_type, e.price, e.side) for e in events if isinstance(e, Fill)] == [
        (ExecType.TRADE, D("95900.1"), Side.SELL),
        (ExecType.MOVE_POSITION, D("95900.1"), Side.SELL),
    ]
    assert len(events) == 2
    assert [(s.where, s.item_id) for s in skipped] == [("execution", RECORDED_EXEC_ID)] * 2
    assert "UNKNOWN" in skipped[0].reason and "execType" in skipped[0].reason
    assert "execPrice" in skipped[1].reason


def test_a_frame_whose_data_is_not_a_list_is_one_skip(bybit_payload: Any) -> None:
    frame = {**bybit_payload("ws_account_execution"), "data": {"execId": "x"}}
    msg = msgspec.json.decode(msgspec.json.encode(frame), type=w.WsMessage)
    skipped: list[SkippedItem] = []
    assert private_events(msg, "acct", skipped=skipped) == []
    assert len(skipped) == 1 and skipped[0].where == "execution"


async def test_private_stream_delivers_the_rest_and_counts_the_skips(
    client: BybitClient, sim: Any, bybit_payload: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="alphadesk.adapters.bybit")
    events = Collector()
    await client.private_stream(events, settings=QUICK)
    sim.faults.extra_rows(rows(bybit_payload), topic="execution")
    ack = await client.trading.create_order(buy())
    own = await events.wait_for(lambda e: isinstance(e, Fill) and e.order_id == ack.order_id)
    await events.wait_for(lambda e: isinstance(e, Fill) and e.exec_type is ExecType.MOVE_POSITION)
    recorded = [e for e in events.events if isinstance(e, Fill) and e.exec_id == RECORDED_EXEC_ID]
    assert sorted(f.exec_type.value for f in recorded) == ["MovePosition", "Trade"]
    assert own.exec_type is ExecType.TRADE and own.qty == D("0.005")
    assert client.stats.skipped_items == 2
    assert client.stats.skipped_by_source == {"execution": 2}
    warnings = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(warnings) == 2 and all(RECORDED_EXEC_ID in m for m in warnings)
    assert not any(SECRET in r.getMessage() or KEY in r.getMessage() for r in caplog.records)


async def test_gap_fill_page_keeps_its_good_rows(
    client: BybitClient, sim: Any, bybit_payload: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="alphadesk.adapters.bybit")
    ack = await client.trading.create_order(buy())
    (own,) = [v for v in sim.exchange.engine.order_history("shortseller", "BTCUSDT")]
    assert own.order.order_id == ack.order_id
    sim.faults.extra_rows(rows(bybit_payload), path="/v5/execution/list")
    end = own.order.updated_at
    pages = [p async for p in client.history.iter_executions(end, end)]
    fills = [f for page in pages for f in page]
    assert sorted((f.exec_id, f.exec_type.value) for f in fills) == sorted(
        [
            (next(f.exec_id for f in fills if f.order_id == ack.order_id), "Trade"),
            (RECORDED_EXEC_ID, "Trade"),
            (RECORDED_EXEC_ID, "MovePosition"),
        ]
    )
    assert client.stats.skipped_items == 2
    assert client.stats.skipped_by_source == {"/v5/execution/list": 2}
    assert sum(RECORDED_EXEC_ID in r.getMessage() for r in caplog.records) == 2
    # The same window read again (no injected rows now) still works: nothing is stuck.
    assert [f.order_id for f in await client.history.executions(end, end)] == [ack.order_id]


HOSTILE_FIELDS = [
    ({"execTime": "253402300800000"}, "execution.execTime"),  # the year 10000: was an overflow
    ({"execPrice": "1e400"}, "fill.price"),
    ({"execQty": "1e-400"}, "fill.qty"),
    ({"execFee": "-0.5"}, "fill.fee"),
    ({"execId": "a\x00b"}, "fill.exec_id"),
    ({"symbol": "BTC:USDT"}, "execution.symbol"),
    ({"symbol": "BTCUSDT "}, "execution.symbol"),
    ({"symbol": "ethusdt"}, "execution.symbol"),
]


@pytest.mark.parametrize(("change", "field"), HOSTILE_FIELDS)
def test_any_error_of_a_row_is_that_rows_alone_with_its_raw_json(
    bybit_payload: Any, change: dict[str, Any], field: str
) -> None:
    good = recorded_row(bybit_payload)
    bad = {**good, "execId": "bad-1", **change}
    frame = {**bybit_payload("ws_account_execution"), "data": [bad, good]}
    msg = msgspec.json.decode(msgspec.json.encode(frame), type=w.WsMessage)
    skipped: list[SkippedItem] = []
    events = private_events(msg, "acct", skipped=skipped)
    assert [e.exec_id for e in events if isinstance(e, Fill)] == [RECORDED_EXEC_ID]
    (item,) = skipped
    assert item.reason.startswith(f"{field}=") and json.loads(item.raw) == bad


@pytest.mark.parametrize(
    "symbol", ["BTCUSDT", "1000PEPEUSDT", "TSLAUSDT", "10000000AIDOGEUSDT"]
)
def test_linear_usdt_symbols_are_read(symbol: str) -> None:
    assert linear_symbol("execution.symbol", symbol) == symbol


@pytest.mark.parametrize(
    "symbol",
    ["BTC:USDT", "BTC USDT", "btcusdt", "BTCUSDT-26DEC25", "BTCPERP", "BTC-26DEC25", "USDT", "",
     "BTCUSD", "BTCUSDT\x00", "A" * 17 + "USDT"],
)
def test_other_symbols_are_refused_at_the_wire(symbol: str) -> None:
    with pytest.raises(MalformedPayload, match=r"^execution\.symbol="):
        linear_symbol("execution.symbol", symbol)


def test_the_recorded_linear_instruments_all_fit(bybit_payload: Any) -> None:
    for name in ("http_get_instruments_linear", "http_get_instruments_linear_symbol_type"):
        for row in bybit_payload(name)["result"]["list"]:
            assert linear_symbol("instrument.symbol", row["symbol"]) == row["symbol"]


def test_an_execution_more_than_a_day_ahead_of_the_venue_clock_is_refused(
    bybit_payload: Any,
) -> None:
    row = convert(recorded_row(bybit_payload), w.ExecutionInfo, "execution")
    at = from_epoch_ms("t", row.execTime)
    assert fill_from_execution(row, "acct", now=at - timedelta(hours=23)).exec_time == at
    with pytest.raises(MalformedPayload, match="more than a day after the venue's clock"):
        fill_from_execution(row, "acct", now=at - timedelta(days=1, milliseconds=1))


async def test_gap_fill_page_with_an_overflowing_row_still_completes(
    client: BybitClient, sim: Any, bybit_payload: Any
) -> None:
    ack = await client.trading.create_order(buy())
    (own,) = [v for v in sim.exchange.engine.order_history("shortseller", "BTCUSDT")]
    good = recorded_row(bybit_payload)
    bad = {**good, "execId": "year-10000", "execTime": "253402300800000"}
    sim.faults.extra_rows([bad, good], path="/v5/execution/list")
    seen: list[SkippedItem] = []
    client.history.on_skipped = seen.extend
    end = own.order.updated_at
    fills = await client.history.executions(end, end)
    assert sorted(f.exec_id for f in fills) == sorted(
        [RECORDED_EXEC_ID, next(f.exec_id for f in fills if f.order_id == ack.order_id)]
    )
    (item,) = seen
    assert item.item_id == "year-10000" and json.loads(item.raw) == bad
    assert "execution.execTime" in item.reason
