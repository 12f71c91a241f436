"""Executions of one millisecond, folded in the venue's ``seq`` order, give the venue's average
price; folded in ``execId`` order (random on Bybit) they do not.

The rows are the recorded ``execution`` push (tests/fixtures/bybit_payloads/
ws_account_execution.json) with only side, size, price, fee, closed size, id and ``seq``
changed, and the venue's answer is the recorded ``position`` push
(ws_account_position.json) carrying that position.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse import position_reported
from alphadesk.adapters.bybit.wire import convert, decode
from alphadesk.adapters.bybit.ws_decode import private_events
from alphadesk.domain.events import PositionReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.positions import Position, fold
from alphadesk.engine.fold_tail import FoldTail
from alphadesk.testing.builders import T0

D = Decimal
EXEC_MS = 1746270400353
SEQ = 140612148849382
# (execId, side, qty, price, closedSize, seq): a buy, then a sell that closes it and goes short,
# then a sell adding to the short, all matched in the same millisecond. Random ids sort the
# other way round.
ROWS = (
    ("e8a1c5d2-7f3b-4b1e-9a60-1f2d3c4b5a69", "Buy", "0.5", "95900.1", "0", SEQ),
    ("0c4f9b7a-2d6e-4c38-8e15-6a7b8c9d0e1f", "Sell", "0.8", "95901.5", "0.5", SEQ + 1),
    ("5b7e3a1c-9d2f-4e6a-b8c4-2e3f4a5b6c7d", "Sell", "0.2", "95899.0", "0", SEQ + 2),
)


def _frame(payloads_dir: Path, name: str, rows: list[dict[str, Any]]) -> w.WsMessage:
    raw = json.loads((payloads_dir / f"{name}.json").read_text())
    return decode(json.dumps({**raw, "data": rows}), w.WsMessage, name)


def _executions(payloads_dir: Path) -> list[Fill]:
    (template,) = json.loads((payloads_dir / "ws_account_execution.json").read_text())["data"]
    rows = []
    for exec_id, side, qty, price, closed, seq in sorted(ROWS):  # pushed in exec id order
        value = D(qty) * D(price)
        rows.append({
            **template, "execId": exec_id, "side": side, "execQty": qty, "orderQty": qty,
            "execPrice": price, "execValue": str(value), "closedSize": closed,
            "execFee": str(value * D(template["feeRate"])), "execTime": str(EXEC_MS), "seq": seq,
        })  # fmt: skip
    events = private_events(_frame(payloads_dir, "ws_account_execution", rows), "acct-1")
    fills = [e for e in events if isinstance(e, Fill)]
    assert len(fills) == 3 and len({f.exec_time for f in fills}) == 1
    return fills


def _venue_position(payloads_dir: Path) -> PositionReported:
    (template,) = json.loads((payloads_dir / "ws_account_position.json").read_text())["data"]
    row = {
        **template, "symbol": "BTCUSDT", "side": "Sell", "size": "0.5", "entryPrice": "95900.5",
        "markPrice": "95900.2", "updatedTime": str(EXEC_MS), "seq": SEQ + 2,
    }  # fmt: skip
    return position_reported(convert(row, w.PositionInfo, "position"), "acct-1", at=T0)


def test_seq_order_gives_the_venues_average_price(payloads_dir: Path) -> None:
    fills = _executions(payloads_dir)
    venue = _venue_position(payloads_dir)
    bot = fills[0].bot_id

    ours = fold(bot, "BTCUSDT", fills)
    assert (ours.side, ours.size, ours.avg_entry_price) == (venue.side, venue.size, venue.avg_price)
    assert venue.avg_price == D("95900.5")

    by_exec_id = Position(bot, "BTCUSDT")
    for fill in sorted(fills, key=lambda f: (f.exec_time, f.exec_id)):
        by_exec_id = by_exec_id.apply(fill)
    assert by_exec_id.size == venue.size
    assert by_exec_id.avg_entry_price == D("95901.0") != venue.avg_price

    # the writer's projection, given the fills one at a time in the order they were pushed
    tail = FoldTail.of_history(bot, "BTCUSDT", [], limit=8)
    for fill in fills:
        tail.fold_in([fill])
    assert tail.position.avg_entry_price == venue.avg_price
