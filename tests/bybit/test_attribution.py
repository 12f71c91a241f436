"""Attribution by account first (issue 14, item 3), on the recorded execution payload.

The account decides the bot; the ``orderLinkId`` only splits an account several bots share. An
exchange-side take-profit, stop-loss or trailing exit carries no link id: on a bot's own key it is
that bot's fill, labelled with the exit's kind, so the bot's round trip closes (the original
platform filed such exits as ``unknown`` and its round trips never closed). A person's order on a
bot's key is ``manual`` and still closes the bot's position and round trip.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse import fill_from_execution
from alphadesk.adapters.bybit.wire import convert
from alphadesk.domain import order_link
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.roundtrips import match

BOT = "shortseller_001"


@pytest.fixture
def executions(bybit_payload: Any) -> list[w.ExecutionInfo]:
    result = convert(bybit_payload("http_get_executions")["result"], w.ExecutionsResult, "x")
    return list(result.list)


@pytest.mark.parametrize(
    ("stop_order_type", "create_type", "reason"),
    [
        ("TakeProfit", "CreateByTakeProfit", "take_profit"),
        ("PartialTakeProfit", "", "take_profit"),
        ("StopLoss", "CreateByStopLoss", "stop_loss"),
        ("", "CreateByPartialStopLoss", "stop_loss"),
        ("TrailingStop", "CreateByTrailingStop", "trailing"),
        ("", "CreateByUser", "manual"),  # a person's order on the bot's key
        ("UNKNOWN", "", "manual"),
    ],
)
def test_an_untagged_fill_on_a_bots_own_key_is_that_bots(
    executions: list[w.ExecutionInfo], stop_order_type: str, create_type: str, reason: str
) -> None:
    e = msgspec.structs.replace(executions[1], orderLinkId="", stopOrderType=stop_order_type,
                                createType=create_type)  # fmt: skip
    fill = fill_from_execution(e, "acct-1", default_bot=BOT)
    assert (fill.bot_id, fill.close_reason) == (BOT, reason)
    # on a key several bots share, nothing names the bot: it stays unknown, the reason is kept
    shared = fill_from_execution(e, "acct-1")
    assert (shared.bot_id, shared.close_reason) == ("unknown", reason)


def test_the_link_id_still_splits_a_shared_account(executions: list[w.ExecutionInfo]) -> None:
    ours = order_link.encode("lxalgo_001", Purpose.STOP_LOSS, nonce="abc123")
    e = msgspec.structs.replace(executions[1], orderLinkId=ours, stopOrderType="TakeProfit")
    fill = fill_from_execution(e, "acct-1", default_bot=BOT)
    assert (fill.bot_id, fill.close_reason) == ("lxalgo_001", "stop_loss")


@pytest.mark.parametrize(("exit_kind", "reason"),
                         [("TakeProfit", "take_profit"), ("", "manual")])  # fmt: skip
def test_venue_and_manual_exits_close_the_bots_round_trip(
    executions: list[w.ExecutionInfo], exit_kind: str, reason: str
) -> None:
    buy, sell = executions  # a Buy 0.100 BTC and a Sell; the sell is cut to close the buy
    entry_link = order_link.encode(BOT, Purpose.ENTRY, nonce="e1")
    entry = fill_from_execution(
        msgspec.structs.replace(buy, orderLinkId=entry_link), "acct-1", default_bot=BOT
    )
    exit_ = fill_from_execution(
        msgspec.structs.replace(sell, symbol=buy.symbol, execPrice="50500.00", execQty="0.100",
                                execFee="2.7775", orderLinkId="", stopOrderType=exit_kind,
                                execTime=str(int(buy.execTime) + 60_000)),
        "acct-1", default_bot=BOT,
    )  # fmt: skip
    (trip,) = match(BOT, buy.symbol, [entry, exit_])
    assert (trip.bot_id, trip.entry_reason, trip.exit_reason) == (BOT, "entry", reason)
    assert trip.qty == Decimal("0.100") and trip.gross_pnl == Decimal("50.00000")
