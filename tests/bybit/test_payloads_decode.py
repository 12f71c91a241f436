"""Every recorded Bybit payload decodes into its wire struct, and malformed ones fail by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.wire import MalformedPayload, convert, decode

REST: dict[str, type[Any]] = {
    "http_get_account_info": w.AccountInfo,
    "http_get_executions": w.ExecutionsResult,
    "http_get_fee_rate": w.FeeRateResult,
    "http_get_funding_history": w.FundingHistoryResult,
    "http_get_instruments_inverse": w.InstrumentsResult,
    "http_get_instruments_inverse_symbol_type": w.InstrumentsResult,
    "http_get_instruments_linear": w.InstrumentsResult,
    "http_get_instruments_linear_symbol_type": w.InstrumentsResult,
    "http_get_instruments_option": w.InstrumentsResult,
    "http_get_instruments_option_symbol_id": w.InstrumentsResult,
    "http_get_instruments_spot": w.InstrumentsResult,
    "http_get_instruments_spot_xstocks": w.InstrumentsResult,
    "http_get_klines_linear": w.KlineResult,
    "http_get_order_partially_filled_rejected": w.OrdersResult,
    "http_get_orderbook": w.OrderbookResult,
    "http_get_orders_history": w.OrdersResult,
    "http_get_orders_history_with_duplicate": w.OrdersResult,
    "http_get_orders_realtime": w.OrdersResult,
    "http_get_orders_realtime_tp_sl": w.OrdersResult,
    "http_get_positions": w.PositionsResult,
    "http_get_positions_with_open_time": w.PositionsResult,
    "http_get_trades_recent": w.RecentTradesResult,
    "http_get_user_escrow_sub_members": w.SubMembersResult,
    "http_get_user_query_api": w.ApiKeyInfo,
    "http_get_user_sub_apikeys": w.SubApiKeysResult,
    "http_get_user_sub_members": w.SubMembersResult,
    "http_get_user_sub_members_paged": w.SubMembersResult,
    "http_get_wallet_balance": w.WalletResult,
    "http_get_wallet_balance_spot_short": w.WalletResult,
    "http_get_wallet_balance_with_spot_borrow": w.WalletResult,
    "http_post_user_update_master_api": w.ApiKeyInfo,
    "http_post_user_update_sub_api": w.ApiKeyInfo,
}
_ORDER_WS = [
    "ws_account_order",
    "ws_account_order_buy_stop_market",
    "ws_account_order_filled",
    "ws_account_order_limit_if_touched",
    "ws_account_order_market_if_touched",
    "ws_account_order_partially_filled_rejected",
    "ws_account_order_sell_market_if_touched",
    "ws_account_order_stop_limit",
    "ws_account_order_stop_loss",
    "ws_account_order_stop_market",
    "ws_account_order_take_profit",
]
WS_DATA: dict[str, type[Any]] = {
    "ws_account_execution": list[w.ExecutionInfo],
    "ws_account_execution_adl": list[w.ExecutionInfo],
    "ws_account_execution_fast": list[w.FastExecutionInfo],
    "ws_account_execution_fast_envelope_id": list[w.FastExecutionInfo],
    **dict.fromkeys(_ORDER_WS, list[w.OrderInfo]),
    "ws_account_position": list[w.PositionInfo],
    "ws_account_position_short": list[w.PositionInfo],
    "ws_account_wallet": list[w.WalletInfo],
    "ws_account_wallet_locked_exceeds_total": list[w.WalletInfo],
    "ws_account_wallet_small_order": list[w.WalletInfo],
    "ws_kline": list[w.WsKline],
    "ws_orderbook_delta": w.WsOrderbook,
    "ws_orderbook_snapshot": w.WsOrderbook,
    "ws_public_trade": list[w.WsPublicTrade],
    "ws_ticker_linear": w.TickerInfo,
    "ws_ticker_option": w.TickerInfo,
    "ws_order_response": w.OrderAckInfo,
}
# Frames that are op replies (no topic data), and a bare position row.
WS_OPS = ["ws_auth_failure", "ws_auth_success", "ws_subscription_ack", "ws_subscription_failure"]
BARE = {"ws_account_position_with_open_time": w.PositionInfo}


def _raw(payloads_dir: Path, name: str) -> bytes:
    return (payloads_dir / f"{name}.json").read_bytes()


def test_the_table_covers_every_recorded_payload(payloads_dir: Path) -> None:
    recorded = {p.stem for p in payloads_dir.glob("*.json")}
    covered = set(REST) | set(WS_DATA) | set(WS_OPS) | set(BARE)
    assert recorded == covered
    assert len(recorded) == 64


@pytest.mark.parametrize("name", sorted(REST))
def test_rest_payload_decodes(payloads_dir: Path, name: str) -> None:
    envelope = decode(_raw(payloads_dir, name), w.Response, name)
    assert envelope.retCode == 0
    result = decode(envelope.result, REST[name], name)
    assert isinstance(result, REST[name])
    # ccxt hands us parsed JSON; the same payload converts identically from Python objects.
    as_objects = msgspec.json.decode(_raw(payloads_dir, name))["result"]
    assert convert(as_objects, REST[name], name) == result


@pytest.mark.parametrize("name", sorted(WS_DATA))
def test_ws_payload_decodes(payloads_dir: Path, name: str) -> None:
    frame = decode(_raw(payloads_dir, name), w.WsMessage, name)
    assert frame.topic or frame.op
    decoded = decode(frame.data, WS_DATA[name], name)
    assert decoded is not None


@pytest.mark.parametrize("name", WS_OPS)
def test_ws_op_replies_decode(payloads_dir: Path, name: str) -> None:
    frame = decode(_raw(payloads_dir, name), w.WsMessage, name)
    assert frame.op in ("auth", "subscribe")
    assert frame.success is (not name.endswith("failure"))


def test_bare_position_row_decodes(payloads_dir: Path) -> None:
    row = decode(_raw(payloads_dir, "ws_account_position_with_open_time"), w.PositionInfo, "p")
    assert (row.symbol, row.entryPrice, row.openTime) == ("BTCUSDT", "50000", 1700000000123)


def test_concrete_wire_values(payloads_dir: Path) -> None:
    execs = decode(
        decode(_raw(payloads_dir, "http_get_executions"), w.Response, "e").result,
        w.ExecutionsResult,
        "e",
    )
    assert execs.nextPageCursor == "132766%3A2%2C132766%3A2"
    assert [e.execId for e in execs.list] == [
        "e0cbe81d-0f18-5866-9415-cf319b5dab3b",
        "f1dce92e-1g29-6977-a526-dg420c6ecb4c",
    ]
    assert execs.list[0].isMaker is True and execs.list[1].execFee == "0.9000"
    ack = decode(_raw(payloads_dir, "ws_subscription_failure"), w.WsMessage, "s")
    assert ack.ret_msg == "Invalid topic: invalid.topic.BTCUSDT"
    auth = decode(_raw(payloads_dir, "ws_auth_failure"), w.WsMessage, "a")
    assert (auth.retCode, auth.retMsg) == (10003, "Invalid apikey")


def test_query_api_secret_field_is_not_kept(bybit_payload: Any) -> None:
    info = convert(bybit_payload("http_get_user_query_api")["result"], w.ApiKeyInfo, "q")
    assert not hasattr(info, "secret")
    assert info.permissions["Wallet"] == ["AccountTransfer", "SubMemberTransfer"]


def test_malformed_payload_names_field_and_value(bybit_payload: Any) -> None:
    result = bybit_payload("http_get_executions")["result"]
    result["list"][1]["execPrice"] = 3000.0  # a float where Bybit sends a string
    with pytest.raises(MalformedPayload) as info:
        convert(result, w.ExecutionsResult, "/v5/execution/list")
    assert info.value.field == "/v5/execution/list.list[1].execPrice"
    assert info.value.value == 3000.0
    assert "Expected `str`, got `float`" in str(info.value)


def test_missing_required_field_is_named(payloads_dir: Path) -> None:
    with pytest.raises(MalformedPayload, match=r"execId"):
        decode(b'[{"symbol": "BTCUSDT"}]', list[w.ExecutionInfo], "execution")


def test_non_json_frame_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="not JSON"):
        decode(b"<html>502</html>", w.WsMessage, "frame")
