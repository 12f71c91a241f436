"""Recorded payloads parse into the right domain objects with the exchange's exact Decimals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.models import KlineUpdate, PublicTrade, Ticker
from alphadesk.adapters.bybit.parse import (
    closed_pnl_from_info,
    fill_from_execution,
    order_from_info,
    position_reported,
    wallet_reported,
)
from alphadesk.adapters.bybit.parse_market import (
    bar_from_row,
    fee_rate_from_info,
    funding_rate_from_info,
    instrument_from_info,
    interval_code,
    public_trade_from_rest,
)
from alphadesk.adapters.bybit.wire import MalformedPayload, convert, decode
from alphadesk.adapters.bybit.ws_decode import TickerBook, private_events, public_events
from alphadesk.domain import order_link
from alphadesk.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.order_link import Purpose

D = Decimal
AT = datetime(2024, 1, 1, tzinfo=UTC)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def rest(bybit_payload: Any, name: str, type_: type[Any]) -> Any:
    return convert(bybit_payload(name)["result"], type_, name)


def frame(payloads_dir: Path, name: str) -> w.WsMessage:
    raw = (payloads_dir / f"{name}.json").read_bytes()
    return decode(raw, w.WsMessage, name)


def test_rest_executions_become_fills(bybit_payload: Any) -> None:
    result = rest(bybit_payload, "http_get_executions", w.ExecutionsResult)
    buy, sell = (fill_from_execution(e, "acct-1") for e in result.list)
    assert buy == Fill(
        venue="bybit",
        account="acct-1",
        exec_id="e0cbe81d-0f18-5866-9415-cf319b5dab3b",
        bot_id="unknown",
        symbol="BTCUSDT",
        side=Side.BUY,
        price=D("50000.00"),
        qty=D("0.100"),
        fee=D("0.0150"),
        exec_time=ms(1672282722429),
        exec_type=ExecType.TRADE,
        fee_currency="USDT",
        is_maker=True,
        order_id="8c065341-7b52-4ca9-ac2c-37e31ac55c94",
        order_link_id="test-order-001",
        order_type="Limit",
        closed_size=D("0.000"),
        close_reason="manual",
        seq=4688002127,
    )
    assert sell.seq == 4688002128
    assert (sell.side, sell.price, sell.qty, sell.fee, sell.is_maker) == (
        Side.SELL,
        D("3000.00"),
        D("0.500"),
        D("0.9000"),
        False,
    )
    assert str(buy.price) == "50000.00"  # the exchange's digits, not a float's


def test_ws_execution_and_adl(payloads_dir: Path) -> None:
    (fill,) = private_events(frame(payloads_dir, "ws_account_execution"), "acct-1")
    assert isinstance(fill, Fill)
    assert (fill.exec_id, fill.price, fill.qty, fill.fee, fill.closed_size) == (
        "0ab1bdf7-4219-438b-b30a-32ec863018f7",
        D("95900.1"),
        D("0.5"),
        D("26.3725275"),
        D("0.5"),
    )
    assert fill.exec_time == ms(1746270400353) and fill.order_type == "Market"
    assert fill.seq == 140612148849382
    (adl,) = private_events(frame(payloads_dir, "ws_account_execution_adl"), "acct-1")
    assert isinstance(adl, Fill)
    assert adl.exec_type is ExecType.ADL_TRADE and adl.exec_type.is_forced
    assert adl.fee == D("0") and adl.order_link_id == ""
    assert adl.seq == 140612148849383


def test_execution_seq_absent_text_or_bad(bybit_payload: Any) -> None:
    """``seq`` orders fills of one millisecond: kept when given (a number, or digits as text),
    None when the row has none, and a bad one refuses the row naming the field."""
    base = rest(bybit_payload, "http_get_executions", w.ExecutionsResult).list[0]
    assert fill_from_execution(msgspec.structs.replace(base, seq=None), "a").seq is None
    assert fill_from_execution(msgspec.structs.replace(base, seq=""), "a").seq is None
    assert fill_from_execution(msgspec.structs.replace(base, seq="4688002127"), "a").seq == (
        4688002127
    )
    with pytest.raises(MalformedPayload, match="execution.seq='-1'"):
        fill_from_execution(msgspec.structs.replace(base, seq="-1"), "a")
    with pytest.raises(InvalidField, match="fill.seq=-1"):
        fill_from_execution(msgspec.structs.replace(base, seq=-1), "a")


def test_bot_attribution_from_our_order_link_id(bybit_payload: Any) -> None:
    result = rest(bybit_payload, "http_get_executions", w.ExecutionsResult)
    ours = order_link.encode("shortseller_001", Purpose.TAKE_PROFIT, level=2, nonce="abc123")

    e = msgspec.structs.replace(result.list[0], orderLinkId=ours)
    fill = fill_from_execution(e, "acct-1")
    assert (fill.bot_id, fill.close_reason, fill.order_link_id) == (
        "shortseller_001",
        "take_profit_2",
        ours,
    )
    # a foreign id on a bot's own key can be attributed by the caller, still marked manual
    fallback = fill_from_execution(result.list[1], "acct-1", default_bot="lxalgo_001")
    assert (fallback.bot_id, fallback.close_reason) == ("lxalgo_001", "manual")


def test_fast_execution_is_not_a_fill(payloads_dir: Path) -> None:
    assert private_events(frame(payloads_dir, "ws_account_execution_fast"), "a") == []


def test_orders_from_rest_and_ws(bybit_payload: Any, payloads_dir: Path) -> None:
    realtime = rest(bybit_payload, "http_get_orders_realtime", w.OrdersResult)
    first = order_from_info(realtime.list[0])
    assert (first.order_id, first.symbol, first.side, first.order_type) == (
        "open-order-1",
        "ETHUSDT",
        Side.BUY,
        OrderType.LIMIT,
    )
    assert (first.price, first.qty, first.status, first.filled_qty) == (
        D("3930.41"),
        D("0.010"),
        OrderStatus.NEW,
        D("0"),
    )
    assert first.avg_fill_price is None and first.trigger_price is None  # null and "0"
    assert first.created_at == ms(1761355905606)

    (filled,) = private_events(frame(payloads_dir, "ws_account_order_filled"), "acct-1")
    assert isinstance(filled, OrderUpdated) and filled.account == "acct-1"
    order = filled.order
    assert (order.status, order.filled_qty, order.avg_fill_price, order.price) == (
        OrderStatus.FILLED,
        D("0.100"),
        D("30000.50"),
        D("30000.50"),
    )
    assert order.trigger_price == D("29500.00") and order.time_in_force is TimeInForce.GTC

    (stop,) = private_events(frame(payloads_dir, "ws_account_order_stop_loss"), "acct-1")
    assert isinstance(stop, OrderUpdated)
    assert stop.order.status is OrderStatus.UNTRIGGERED
    assert stop.order.price is None and stop.order.trigger_price == D("48000.00")
    assert stop.order.reduce_only is True and stop.order.order_type is OrderType.MARKET


def test_rejected_order_keeps_partial_fill_and_reason(bybit_payload: Any) -> None:
    result = rest(bybit_payload, "http_get_order_partially_filled_rejected", w.OrdersResult)
    order = order_from_info(result.list[0])
    assert order.status is OrderStatus.REJECTED
    assert (order.filled_qty, order.remaining_qty) == (D("0.005"), D("0.005"))
    assert order.reject_reason == "INSUFFICIENT_MARGIN"


def test_every_recorded_order_push_parses(payloads_dir: Path) -> None:
    names = sorted(p.stem for p in payloads_dir.glob("ws_account_order*.json"))
    assert len(names) == 11
    for name in names:
        msg = frame(payloads_dir, name)
        events = private_events(msg, "acct-1")
        if name == "ws_account_order_partially_filled_rejected":
            assert events == []  # category "spot": not this desk's; it still parses:
            (info,) = decode(msg.data, list[w.OrderInfo], name)
            order = order_from_info(info)
            assert (order.status, order.filled_qty, order.reject_reason) == (
                OrderStatus.REJECTED,
                D("50.0"),
                "",  # Bybit's "UNKNOWN" means no reason
            )
            continue
        assert len(events) == 1 and isinstance(events[0], OrderUpdated), name
        assert events[0].order.qty > 0


def test_positions_rest(bybit_payload: Any) -> None:
    result = rest(bybit_payload, "http_get_positions", w.PositionsResult)
    btc, eth, sol = (position_reported(p, "acct-1", at=AT) for p in result.list)
    assert (btc.side, btc.size, btc.avg_price, btc.mark_price) == (
        Side.BUY,
        D("0.5"),
        D("50000.00"),
        D("50500.00"),
    )
    assert (btc.unrealized_pnl, btc.realized_pnl, btc.take_profit, btc.stop_loss) == (
        D("250.00"),
        D("100.00"),
        D("55000.00"),
        D("48000.00"),
    )
    assert btc.updated_at == ms(1697673600012)
    assert (eth.side, eth.signed_size) == (Side.SELL, D("-5.0"))
    assert (sol.side, sol.size, sol.avg_price) == (None, D("0"), D("0"))


def test_position_push_uses_entry_price(payloads_dir: Path) -> None:
    (pos,) = private_events(frame(payloads_dir, "ws_account_position"), "acct-1")
    assert isinstance(pos, PositionReported)
    assert (pos.symbol, pos.side, pos.size, pos.avg_price) == (
        "ETHUSDT",
        Side.SELL,
        D("0.01"),
        D("3641.075"),
    )
    assert (pos.unrealized_pnl, pos.realized_pnl) == (D("-0.00255"), D("0.0094814"))


def _frame_with_rows(payloads_dir: Path, name: str, rows: list[dict[str, Any]]) -> w.WsMessage:
    raw = json.loads((payloads_dir / f"{name}.json").read_text())
    return decode(json.dumps({**raw, "data": rows}), w.WsMessage, name)


def test_a_frame_of_snapshots_builds_only_the_newest_of_each(payloads_dir: Path) -> None:
    """A lagging connection gets many snapshots of one position (or wallet) in one frame, all
    of the frame's time; the superseded ones are not read (not even their numbers)."""
    (eth,) = json.loads((payloads_dir / "ws_account_position.json").read_text())[
        "data"
    ]
    btc = {**eth, "symbol": "BTCUSDT", "size": "0.002"}
    rows = [{**eth, "size": "not a number"}, btc, {**eth, "size": "0.03"}]
    skipped: list[Any] = []
    events = private_events(
        _frame_with_rows(payloads_dir, "ws_account_position", rows), "acct-1", skipped=skipped
    )
    assert sorted((e.symbol, e.size) for e in events if isinstance(e, PositionReported)) == [
        ("BTCUSDT", D("0.002")),
        ("ETHUSDT", D("0.03")),
    ]
    assert skipped == []
    # the newest row is read as always: a bad number there is reported with its field
    bad = private_events(
        _frame_with_rows(payloads_dir, "ws_account_position", [eth, {**eth, "size": "x"}]),
        "acct-1",
        skipped=skipped,
    )
    assert bad == [] and [item.reason for item in skipped] == [
        "position.size='x': is not a decimal number"
    ]

    (wallet,) = json.loads((payloads_dir / "ws_account_wallet.json").read_text())[
        "data"
    ]
    later = {**wallet, "totalEquity": "10300.5"}
    (push,) = private_events(
        _frame_with_rows(payloads_dir, "ws_account_wallet", [wallet, later]), "acct-1"
    )
    assert isinstance(push, WalletReported) and push.equity == D("10300.5")


def test_wallet_rest_and_ws(bybit_payload: Any, payloads_dir: Path) -> None:
    result = rest(bybit_payload, "http_get_wallet_balance", w.WalletResult)
    wallet = wallet_reported(result.list[0], "acct-1", at=AT)
    assert (wallet.equity, wallet.wallet_balance, wallet.available_balance) == (
        D("3.31216591"),
        D("3.00326056"),
        D("3.00326056"),
    )
    (push,) = private_events(frame(payloads_dir, "ws_account_wallet"), "acct-1")
    assert isinstance(push, WalletReported)
    assert (push.equity, push.available_balance, push.at) == (
        D("10262.91335023"),
        D("9556.6056555"),
        ms(1700034722104),
    )


def test_instruments_linear(bybit_payload: Any) -> None:
    result = rest(bybit_payload, "http_get_instruments_linear", w.InstrumentsResult)
    btc, eth = (instrument_from_info(i) for i in result.list)
    assert (btc.symbol, btc.tick_size, btc.qty_step, btc.min_qty) == (
        "BTCUSDT",
        D("0.5"),
        D("0.001"),
        D("0.001"),
    )
    assert (btc.min_notional, btc.max_qty, btc.base_coin) == (D("5"), D("100.0"), "BTC")
    assert (eth.tick_size, eth.qty_step, eth.max_qty) == (D("0.05"), D("0.01"), D("1000.0"))
    assert btc.round_price(D("50000.7"), Side.BUY) == D("50000.5")


def test_instrument_with_zero_tick_is_refused_by_name(bybit_payload: Any) -> None:
    raw = bybit_payload("http_get_instruments_linear")["result"]
    raw["list"][0]["priceFilter"]["tickSize"] = "0"
    info = convert(raw, w.InstrumentsResult, "i").list[0]
    with pytest.raises(MalformedPayload) as exc:
        instrument_from_info(info)
    assert exc.value.field == "BTCUSDT.instrument.tick_size"


def test_klines_rest_and_ws(bybit_payload: Any, payloads_dir: Path) -> None:
    result = rest(bybit_payload, "http_get_klines_linear", w.KlineResult)
    bar = bar_from_row(result.list[0], "BTCUSDT", 5)
    assert (bar.open_time_ms, bar.open, bar.high, bar.low, bar.close) == (
        1709891679000,
        27450.0,
        27460.0,
        27440.0,
        27455.0,
    )
    assert (bar.volume, bar.turnover) == (123.45, 3390000.0)
    (update,) = public_events(frame(payloads_dir, "ws_kline"), TickerBook())
    assert isinstance(update, KlineUpdate) and update.confirmed is False
    assert (update.bar.symbol, update.bar.interval_min, update.bar.open_time_ms) == (
        "BTCUSDT",
        5,
        1672324800000,
    )
    assert (update.bar.open, update.bar.close, update.bar.volume) == (16649.5, 16677.0, 2.081)
    assert interval_code(240) == "240" and interval_code(1440) == "D"


def test_malformed_kline_row_names_the_column() -> None:
    with pytest.raises(MalformedPayload) as info:
        bar_from_row(["1709891679000", "27450", "oops", "1", "1", "1"], "BTCUSDT", 5)
    assert (info.value.field, info.value.value) == ("kline.high", "oops")


def test_ticker_snapshot_and_delta(payloads_dir: Path) -> None:
    book = TickerBook()
    (ticker,) = public_events(frame(payloads_dir, "ws_ticker_linear"), book)
    assert isinstance(ticker, Ticker)
    assert (ticker.last_price, ticker.mark_price, ticker.bid_price, ticker.ask_price) == (
        D("17216.00"),
        D("17217.33"),
        D("17215.50"),
        D("17216.00"),
    )
    assert ticker.funding_rate == D("-0.000212")
    assert ticker.next_funding_time == ms(1673280000000)
    delta = w.WsMessage(
        topic="tickers.BTCUSDT",
        type="delta",
        ts=1673272861999,
        data=msgspec.Raw(b'{"symbol":"BTCUSDT","lastPrice":"17220.50"}'),
    )
    (merged,) = public_events(delta, book)
    assert isinstance(merged, Ticker)
    assert (merged.last_price, merged.mark_price) == (D("17220.50"), D("17217.33"))


def test_public_trades(payloads_dir: Path, bybit_payload: Any) -> None:
    (trade,) = public_events(frame(payloads_dir, "ws_public_trade"), TickerBook())
    assert isinstance(trade, PublicTrade)
    assert (trade.side, trade.price, trade.qty, trade.at) == (
        Side.BUY,
        D("27451.00"),
        D("0.010"),
        ms(1709891679000),
    )
    recent = rest(bybit_payload, "http_get_trades_recent", w.RecentTradesResult)
    assert public_trade_from_rest(recent.list[0]).price == D("27450.50")


def test_funding_and_fee_rates(bybit_payload: Any) -> None:
    funding = rest(bybit_payload, "http_get_funding_history", w.FundingHistoryResult)
    rates = [funding_rate_from_info(f) for f in funding.list]
    assert [(r.rate, r.at) for r in rates] == [
        (D("0.0001"), ms(1709884800000)),
        (D("0.00015"), ms(1709856000000)),
    ]
    fees = rest(bybit_payload, "http_get_fee_rate", w.FeeRateResult)
    sol = fee_rate_from_info(fees.list[2])
    assert (sol.symbol, sol.maker, sol.taker) == ("SOLUSDT", D("0.00025"), D("0.00075"))


def test_closed_pnl_row() -> None:
    # Field names and string encoding as documented for /v5/position/closed-pnl (no recording).
    info = w.ClosedPnlInfo(
        symbol="ETHUSDT",
        orderId="o-1",
        side="Buy",
        qty="0.10",
        closedPnl="-1.2345",
        createdTime="1700000000000",
        updatedTime="1700000000100",
        avgEntryPrice="2000.5",
        avgExitPrice="2010.0",
        closedSize="0.10",
        fillCount="3",
        leverage="10",
    )
    record = closed_pnl_from_info(info)
    assert (record.closed_pnl, record.avg_exit_price, record.fill_count) == (
        D("-1.2345"),
        D("2010.0"),
        3,
    )
    assert record.side is Side.BUY and record.open_fee is None


def test_blank_required_number_is_named() -> None:
    e = w.ExecutionInfo(
        execId="x", symbol="BTCUSDT", side="Buy", execPrice="", execQty="1", execTime="1"
    )
    with pytest.raises(MalformedPayload) as info:
        fill_from_execution(e, "acct-1")
    assert info.value.field == "execution.execPrice"


def test_unknown_side_and_exec_type_are_named() -> None:
    def execution(side: str, exec_type: str = "Trade") -> w.ExecutionInfo:
        return w.ExecutionInfo(
            execId="x",
            symbol="BTCUSDT",
            side=side,
            execPrice="1",
            execQty="1",
            execTime="1",
            execType=exec_type,
        )

    with pytest.raises(MalformedPayload, match="execution.side='Long'"):
        fill_from_execution(execution("Long"), "a")
    with pytest.raises(MalformedPayload, match="execution.execType='Liquidation'"):
        fill_from_execution(execution("Buy", "Liquidation"), "a")
