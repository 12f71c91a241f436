"""The matching engine refuses a fill the ledger would refuse, naming the field and the value.

The engine makes its fills without the checking constructor (issue 17): it tests only what its
own state cannot vouch for, the market data's time and price. These drive the engine with such
data and expect the same error the checking constructor raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.requests import AmendRequest
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, OrderType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import (
    EARLIEST_EXEC_MS,
    EARLIEST_EXEC_TIME,
    LATEST_EXEC_MS,
    LATEST_EXEC_TIME,
    Fill,
)
from alphadesk.domain.instruments import Instrument

from .kit import HOUR, MIN5, SYM, T0, fills, order

LATEST = to_epoch_ms(LATEST_EXEC_TIME)  # 2100-01-01 00:00 UTC, a funding boundary


def test_the_millisecond_bounds_are_the_datetime_bounds() -> None:
    assert (
        to_epoch_ms(EARLIEST_EXEC_TIME),
        to_epoch_ms(LATEST_EXEC_TIME),
    ) == (EARLIEST_EXEC_MS, LATEST_EXEC_MS)


def test_a_trade_before_2018_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    early = EARLIEST_EXEC_MS - 1
    engine.on_price(SYM, Decimal(50000), early)
    with pytest.raises(InvalidField) as refused:
        engine.place("A", order(Side.BUY, "0.1", "e"), early)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == datetime(2017, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert "2018-01-01" in str(refused.value)


def test_a_trade_from_2100_on_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.on_price(SYM, Decimal(50000), LATEST - HOUR)
    limit = order(Side.BUY, "0.1", "e", price=Decimal(49000), order_type=OrderType.LIMIT)
    engine.place("A", limit, LATEST - HOUR)
    assert engine.position("A", SYM).size == 0  # flat: no settlement falls due, only the trade
    with pytest.raises(InvalidField) as refused:  # the resting limit fills in the next bar
        engine.on_bar(SYM, 48000.0, 48000.0, 48000.0, 48000.0, LATEST, LATEST + MIN5)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == LATEST_EXEC_TIME


def test_the_last_trade_before_2100_is_made(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.on_price(SYM, Decimal(50000), LATEST - 1)
    [fill] = fills(engine.place("A", order(Side.BUY, "0.1", "e"), LATEST - 1).events)
    assert to_epoch_ms(fill.exec_time) == LATEST - 1 and fill.exec_type is ExecType.TRADE


def test_a_settlement_at_2100_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(price=None)
    engine.set_funding_rate(SYM, Decimal("0.0001"))
    engine.on_price(SYM, Decimal(50000), LATEST - HOUR)
    engine.place("A", order(Side.BUY, "0.1", "e"), LATEST - HOUR)
    with pytest.raises(InvalidField) as refused:
        engine.on_bar(SYM, 50000.0, 50000.0, 50000.0, 50000.0, LATEST, LATEST + MIN5)
    assert refused.value.field == "fill.exec_time"
    assert refused.value.value == LATEST_EXEC_TIME


def test_a_price_past_the_bound_is_refused(make_engine: Callable[..., MatchingEngine]) -> None:
    engine = make_engine(balance="1e12")
    limit = order(Side.SELL, "0.001", "e", price=Decimal(60000), order_type=OrderType.LIMIT)
    engine.place("A", limit, T0 + MIN5)
    with pytest.raises(InvalidField) as refused:  # a corrupt bar: 1e13 is no price
        engine.on_bar(SYM, 1e13, 1e13, 1e13, 1e13, T0 + MIN5, T0 + MIN5 + MIN5)
    assert refused.value.field == "fill.price"


def test_a_nan_price_never_reaches_a_fill(make_engine: Callable[..., MatchingEngine]) -> None:
    """A NaN Decimal cannot be ordered (comparing it raises decimal's InvalidOperation), so the
    engine's quick test before a fill relies on NaN being refused where prices come in."""
    engine = make_engine(price=None)
    with pytest.raises(InvalidField) as refused:
        engine.on_price(SYM, Decimal("NaN"), T0)
    assert refused.value.field == "price"
    engine.on_price(SYM, Decimal(50000), T0)
    limit = order(Side.BUY, "0.1", "e", price=Decimal(49000), order_type=OrderType.LIMIT)
    engine.place("A", limit, T0)
    nan = float("nan")
    with pytest.raises(InvalidField):
        engine.on_bar(SYM, nan, nan, nan, nan, T0 + MIN5, T0 + MIN5 + MIN5)
    assert engine.position("A", SYM).size == 0


# -- a refused fill changes nothing ----------------------------------------------------------------


def _book(engine: MatchingEngine) -> tuple[object, ...]:
    """What a fill changes in account A: wallet, positions, orders, executions, closed PnL."""
    wallet = engine.wallet("A")
    return (
        wallet.wallet_balance, wallet.equity, wallet.available_balance, engine.positions("A"),
        engine.open_orders("A"), engine.order_history("A"), engine.executions("A", limit=100),
        engine.closed_pnl("A", limit=100),
    )  # fmt: skip


def test_a_refused_trade_leaves_the_venue_as_it_was(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    """The fill is checked before the position, wallet and order change. A trade refused for its
    time used to leave the position opened and the fee charged, with no fill to say so (and the
    link id taken); now the next order is the one the refused order would have been."""
    early = EARLIEST_EXEC_MS - HOUR
    refusing, twin = make_engine(price=None), make_engine(price=None)
    for engine in (refusing, twin):
        engine.on_price(SYM, Decimal(50000), early)
    before = _book(refusing)
    with pytest.raises(InvalidField) as refused:
        refusing.place("A", order(Side.BUY, "0.1", "e"), early)
    assert refused.value.field == "fill.exec_time"
    assert _book(refusing) == before
    assert refusing.wallet("A").wallet_balance == Decimal(10000)
    assert refusing.positions("A") == []
    made = []
    for engine in (refusing, twin):
        engine.on_price(SYM, Decimal(50000), T0)
        [fill] = fills(engine.place("A", order(Side.BUY, "0.1", "e"), T0).events)
        made.append(fill)
    assert made[0] == made[1]
    assert (made[0].exec_id, made[0].order_id, made[0].seq) == (
        made[1].exec_id, made[1].order_id, made[1].seq,
    )  # fmt: skip
    assert _book(refusing) == _book(twin)


def test_a_refused_close_leaves_the_position_and_wallet_as_they_were(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    """A close whose label the fill refuses (a labeller's text with a NUL): the position it
    would have closed is still held, at the same cost, and the wallet has paid nothing."""
    refusing, twin = make_engine(), make_engine()
    for engine in (refusing, twin):
        engine.place("A", order(Side.BUY, "0.1", "e"), T0)
    refusing.label_fills(lambda link: "bad\x00label")
    before = _book(refusing)
    with pytest.raises(InvalidField) as refused:
        refusing.place("A", order(Side.SELL, "0.1", "x", reduce_only=True), T0 + MIN5)
    assert refused.value.field == "fill.close_reason"
    assert _book(refusing) == before
    assert refusing.position("A", SYM).size == Decimal("0.1")
    refusing.label_fills(None)
    closes = [
        fills(e.place("A", order(Side.SELL, "0.1", "x", reduce_only=True), T0 + MIN5).events)
        for e in (refusing, twin)
    ]
    assert closes[0] == closes[1] and closes[0][0].closed_size == Decimal("0.1")
    assert _book(refusing) == _book(twin)


def test_an_amend_whose_fill_is_refused_leaves_the_order_as_it_was(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine()
    limit = order(Side.BUY, "0.1", "lim", order_type=OrderType.LIMIT, price=Decimal(49000))
    engine.place("A", limit, T0)
    engine.label_fills(lambda link: "bad\x00label")
    before = _book(engine)
    across = AmendRequest(SYM, order_link_id="lim", price=Decimal(51000))  # crosses: fills
    with pytest.raises(InvalidField, match="fill.close_reason"):
        engine.amend("A", across, T0 + MIN5)
    assert _book(engine) == before
    assert engine.order("A", order_link_id="lim").order.price == Decimal(49000)


def test_a_refused_settlement_leaves_the_position_and_wallet_as_they_were(
    make_engine: Callable[..., MatchingEngine],
) -> None:
    engine = make_engine(price=None)
    engine.set_funding_rate(SYM, Decimal("0.0001"))
    engine.on_price(SYM, Decimal(50000), LATEST - HOUR)
    engine.place("A", order(Side.BUY, "0.1", "e"), LATEST - HOUR)
    before = _book(engine)
    for _ in range(2):  # refused again, not skipped: the settlement is still due
        with pytest.raises(InvalidField, match="fill.exec_time"):
            engine.on_bar(SYM, 50000.0, 50000.0, 50000.0, 50000.0, LATEST, LATEST + MIN5)
        assert _book(engine) == before


class _Bot(str):
    """A bot id the engine's quick test cannot vouch for (not exactly a str): its fills take
    the checking constructor, made before the state changes."""


def test_a_fill_made_by_the_checking_constructor_gets_the_ids_and_seq_of_the_quick_one(
    instruments: dict[str, Instrument],
) -> None:
    made: list[list[Fill]] = []
    for bot in ("bot1", _Bot("bot1")):
        engine = MatchingEngine(
            "backtest", instruments.values(), bot_resolver=lambda account, link, bot=bot: bot
        )
        engine.open_account("A", Decimal(10000))
        engine.set_funding_rate(SYM, Decimal("0.0001"))
        engine.on_price(SYM, Decimal(50000), T0)
        events = [*engine.place("A", order(Side.BUY, "0.1", "e"), T0).events]
        events += engine.on_bar(SYM, 50000.0, 50100.0, 49900.0, 50000.0, T0 + 8 * HOUR,
                                T0 + 8 * HOUR + MIN5)  # fmt: skip
        close = order(Side.SELL, "0.1", "x", reduce_only=True)
        events += engine.place("A", close, T0 + 9 * HOUR).events
        made.append(fills(events))
    quick, checked = made
    assert [f.exec_type for f in quick] == [ExecType.TRADE, ExecType.FUNDING, ExecType.TRADE]
    assert [type(f.bot_id) for f in checked] == [_Bot, _Bot, _Bot]  # the constructor's path
    assert checked == quick
    assert [(f.exec_id, f.seq) for f in checked] == [(f.exec_id, f.seq) for f in quick]
