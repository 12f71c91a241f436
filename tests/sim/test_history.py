"""Execution history paging, closed-PnL records, the wallet identity and determinism."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, OrderType, Side
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import OrderRequest, TradingStopRequest

from .kit import MIN5, SYM, T0, bar, order

D = Decimal


def trade_a_lot(engine: MatchingEngine, n: int) -> None:
    for i in range(n):
        side = Side.BUY if i % 3 != 2 else Side.SELL
        engine.place("A", order(side, "0.01", f"t{i}"), T0 + i)


def test_cursor_paging_returns_every_execution_once_newest_first(engine: MatchingEngine) -> None:
    trade_a_lot(engine, 23)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = engine.executions("A", limit=5, cursor=cursor)
        seen.extend(e.fill.exec_id for e in page.items)
        pages += 1
        if pages == 2:  # new fills arriving mid-paging must not shift the window
            engine.place("A", order(Side.BUY, "0.01", "late"), T0 + 100)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23
    everything = engine.executions("A", limit=100).items
    assert [e.fill.exec_id for e in everything][1:] == seen  # newest ("late") first, then the rest
    assert [e.seq for e in everything] == sorted((e.seq for e in everything), reverse=True)


def test_execution_filters(engine: MatchingEngine) -> None:
    trade_a_lot(engine, 6)
    engine.on_price("ETHUSDT", D(3000), T0)
    engine.place("A", OrderRequest("bot1", "ETHUSDT", Side.BUY, D(1), "eth"), T0 + 50)
    assert {e.fill.symbol for e in engine.executions("A", symbol="ETHUSDT").items} == {"ETHUSDT"}
    window = engine.executions("A", start_ms=T0 + 2, end_ms=T0 + 4).items
    assert sorted(e.exec_ms for e in window) == [T0 + 2, T0 + 3, T0 + 4]
    assert engine.executions("A", exec_type=ExecType.FUNDING).items == []
    one = engine.executions("A", limit=1).items[0]
    assert engine.execution("A", one.fill.exec_id) == one


def test_closed_pnl_records_each_close(engine: MatchingEngine) -> None:
    engine.place("A", order(Side.BUY, "0.2", "open"), T0)
    engine.on_price(SYM, D(51000), T0 + 1)
    engine.place("A", order(Side.SELL, "0.1", "half"), T0 + 2)
    [rec] = engine.closed_pnl("A").items
    assert (rec.side, rec.qty, rec.avg_entry_price, rec.avg_exit_price) == (
        Side.SELL,
        D("0.1"),
        D(50000),
        D(51000),
    )
    assert rec.open_fee == D("2.75") and rec.close_fee == D("2.805")
    assert rec.closed_pnl == D("94.445") and rec.gross_pnl == D(100)
    assert (rec.created_ms, rec.updated_ms) == (T0 + 2, T0 + 2)
    # flip: sell 0.3 closes the remaining 0.1 and opens a 0.2 short at 50000
    engine.on_price(SYM, D(50000), T0 + 3)
    out = engine.place("A", order(Side.SELL, "0.3", "flip"), T0 + 4)
    assert out.fills[0].closed_size == D("0.1")
    latest = engine.closed_pnl("A").items[0]
    assert (latest.qty, latest.avg_exit_price, latest.cum_entry_value) == (
        D("0.1"),
        D(50000),
        D(5000),
    )
    pos = engine.position("A", SYM)
    assert (pos.side, pos.size, pos.avg_price) == (Side.SELL, D("0.2"), D(50000))


def scenario(engine: MatchingEngine) -> list[object]:
    """A mixed run: market, limits, stops, TP/SL, trailing, funding; returns every event."""
    events: list[object] = []
    events += engine.place("A", order(Side.BUY, "0.1", "a", stop_loss=D(49000)), T0).events
    events += engine.place(
        "A", order(Side.BUY, "0.05", "b", order_type=OrderType.LIMIT, price=D(49500)), T0
    ).events
    events += engine.place("A", order(Side.SELL, "0.1", "c", trigger_price=D(48800)), T0).events
    prices = [50000, 49400, 49800, 50600, 51200, 50900, 48500, 48700, 49900, 50400]
    for n in range(120):
        p = prices[n % len(prices)] + n
        events += bar(engine, n, p, p + 300, p - 300, p + (50 if n % 2 else -50))
        if n == 40 and engine.position("A", SYM).size:
            events += engine.set_trading_stop(
                "A", TradingStopRequest("bot1", SYM, trailing_stop=D(400)), T0 + 41 * MIN5
            ).events
        if n % 17 == 0:
            events += engine.place(
                "A", order(Side.SELL if n % 2 else Side.BUY, "0.02", f"n{n}"), T0 + (n + 1) * MIN5
            ).events
    return events


def test_same_inputs_give_identical_outputs(
    make_engine: Callable[..., MatchingEngine], instruments: dict[str, Instrument]
) -> None:
    first, second = scenario(make_engine()), scenario(make_engine())
    assert len(first) > 20
    assert repr(first) == repr(second)
    other = MatchingEngine("backtest", instruments.values(), seed=7)
    other.open_account("A", D(10000))
    other.on_price(SYM, D(50000), T0)
    assert repr(scenario(other)) != repr(first)  # ids come from the seed


def test_wallet_equals_initial_plus_realized_minus_fees_minus_funding(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine()
    scenario(engine)
    execs = engine.executions("A", limit=100)
    all_execs = list(execs.items)
    while execs.next_cursor:
        execs = engine.executions("A", limit=100, cursor=execs.next_cursor)
        all_execs += execs.items
    trades = [e.fill for e in all_execs if e.fill.exec_type is ExecType.TRADE]
    funding = [e.fill for e in all_execs if e.fill.exec_type is ExecType.FUNDING]
    assert trades and funding and any(f.close_reason for f in trades)
    closed = engine.closed_pnl("A", limit=100)
    assert not closed.next_cursor
    gross = sum((r.gross_pnl for r in closed.items), D(0))
    fees = sum((f.fee for f in trades), D(0))
    paid = sum((f.fee for f in funding), D(0))
    assert engine.wallet("A").wallet_balance == D(10000) + gross - fees - paid
    # and equity marks what is still open
    w = engine.wallet("A")
    assert w.equity == w.wallet_balance + w.unrealized_pnl
    assert max(to_epoch_ms(f.exec_time) for f in funding) <= T0 + 120 * MIN5


def test_without_history_only_open_orders_are_kept_and_link_ids_stay_taken(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine(keep_history=False)
    filled = engine.place("A", order(Side.BUY, "0.1", "m"), T0).order
    resting = order(Side.BUY, "0.1", "l", order_type=OrderType.LIMIT, price=D(49000))
    engine.place("A", resting, T0 + 1)
    assert [v.order.order_link_id for v in engine.order_history("A")] == ["l"]
    with pytest.raises(OrderRejected) as err:
        engine.order("A", order_id=filled.order_id if filled else "")
    assert err.value.code is RejectCode.ORDER_NOT_EXISTS
    with pytest.raises(OrderRejected) as err:  # a finished order's link id is still taken
        engine.place("A", order(Side.BUY, "0.1", "m"), T0 + 2)
    assert err.value.code is RejectCode.DUPLICATE_LINK_ID
    bar(engine, 1, 50000.0, 50000.0, 48900.0, 49500.0)  # the limit fills: it is history now
    assert engine.order_history("A") == [] and engine.open_orders("A") == []
    kept = make_engine()  # with history (the default), both orders stay readable
    kept.place("A", order(Side.BUY, "0.1", "m"), T0)
    kept.place("A", resting, T0 + 1)
    bar(kept, 1, 50000.0, 50000.0, 48900.0, 49500.0)
    assert [v.order.order_link_id for v in kept.order_history("A")] == ["l", "m"]
