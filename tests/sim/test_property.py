"""Over random order sequences the wallet moves by exactly realized PnL minus fees minus funding."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphadesk.adapters.sim.config import SimConfig, Slippage
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.rejects import OrderRejected
from alphadesk.domain.enums import ExecType, OrderType, Side, TimeInForce
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import OrderRequest, TradingStopRequest

from .kit import HOUR, SYM, T0

D = Decimal
BTC = Instrument(SYM, D("0.5"), D("0.001"), D("0.001"), D(5))

side_st = st.sampled_from([Side.BUY, Side.SELL])
qty_st = st.integers(1, 400).map(lambda n: D(n) * D("0.001"))
offset_st = st.integers(-40, 40).map(lambda n: D(n) * D(25))
op_st = st.one_of(
    st.tuples(st.just("market"), side_st, qty_st, st.booleans()),
    st.tuples(st.just("limit"), side_st, qty_st, offset_st, st.booleans()),
    st.tuples(st.just("stop"), side_st, qty_st, offset_st),
    st.tuples(st.just("protect"), offset_st, offset_st, st.integers(0, 4)),
    st.tuples(st.just("bar"), st.integers(-600, 600), st.integers(0, 800), st.integers(0, 800)),
    st.tuples(st.just("tick"), st.integers(-300, 300)),
    st.tuples(st.just("cancel_all")),
)


def apply(engine: MatchingEngine, op: tuple[Any, ...], n: int, t: int) -> None:
    last = engine.last_price(SYM)
    assert last is not None
    kind = op[0]
    link = f"o{n}"
    if kind == "market":
        engine.place("A", OrderRequest("b", SYM, op[1], op[2], link, reduce_only=op[3]), t)
    elif kind == "limit":
        price = max(last + op[3], D(100))
        tif = TimeInForce.POST_ONLY if op[4] else TimeInForce.GTC
        req = OrderRequest(
            "b", SYM, op[1], op[2], link, order_type=OrderType.LIMIT, price=price, time_in_force=tif
        )
        engine.place("A", req, t)
    elif kind == "stop":
        trigger = max(last + op[3], D(100))
        engine.place("A", OrderRequest("b", SYM, op[1], op[2], link, trigger_price=trigger), t)
    elif kind == "protect":
        tp, sl = last + abs(op[1]) + 25, max(last - abs(op[2]) - 25, D(100))
        if engine.position("A", SYM).side is Side.SELL:
            tp, sl = max(last - abs(op[1]) - 25, D(100)), last + abs(op[2]) + 25
        trail = D(op[3] * 100)
        engine.set_trading_stop("A", TradingStopRequest("b", SYM, tp, sl, trail), t)
    elif kind == "cancel_all":
        engine.cancel_all("A", t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_st, min_size=1, max_size=40), taker_slip=st.integers(0, 3))
def test_wallet_change_is_realized_pnl_minus_fees_minus_funding(
    ops: list[tuple[Any, ...]], taker_slip: int
) -> None:
    engine = MatchingEngine(
        "backtest", [BTC], config=SimConfig(slippage=Slippage(ticks=taker_slip))
    )
    engine.open_account("A", D(100_000))
    engine.on_price(SYM, D(50000), T0)
    t = T0
    for n, op in enumerate(ops):
        t += HOUR
        if op[0] == "bar":
            last = float(engine.last_price(SYM) or 50000)
            o = max(last + op[1], 1000.0)
            c = max(o + op[2] - op[3], 1000.0)
            h, lo = max(o, c) + op[2], max(min(o, c) - op[3], 500.0)
            engine.on_bar(SYM, o, h, lo, c, t, t + HOUR - 1)
        elif op[0] == "tick":
            engine.on_price(SYM, max((engine.last_price(SYM) or D(1)) + op[1], D(500)), t)
        else:
            with contextlib.suppress(OrderRejected):
                apply(engine, op, n, t)
    fills = []
    page = engine.executions("A", limit=100)
    fills += [e.fill for e in page.items]
    while page.next_cursor:
        page = engine.executions("A", limit=100, cursor=page.next_cursor)
        fills += [e.fill for e in page.items]
    assert len({f.exec_id for f in fills}) == len(fills)
    closed = engine.closed_pnl("A", limit=100)
    assert not closed.next_cursor
    gross = sum((r.gross_pnl for r in closed.items), D(0))
    fees = sum((f.fee for f in fills if f.exec_type is ExecType.TRADE), D(0))
    funding = sum((f.fee for f in fills if f.exec_type is ExecType.FUNDING), D(0))
    assert engine.wallet("A").wallet_balance - D(100_000) == gross - fees - funding
    net_qty = sum((f.signed_qty for f in fills if f.exec_type is ExecType.TRADE), D(0))
    assert engine.position("A", SYM).signed_size == net_qty
