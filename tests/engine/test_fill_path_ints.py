"""The engine's fill path with the fill's time as a plain ``int`` and its link read once
(``Portfolio.apply_at``, ``Router.on_fill_at``, ``InFlight.qty``) ends where the general entry
points (``Portfolio.apply``, ``Router.on_fill``, ``request.qty``) end, fill after fill."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.engine.test_risk_and_state import BOT, T0, make_engine

from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import EnterIntent, NotionalSize, TakeProfitLevel
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.portfolio import Portfolio
from alphadesk.engine.router import InFlight
from alphadesk.testing.builders import make_fill

D = Decimal


def _fills() -> list[Fill]:
    """Open, add, partly close, flip, funding, close in full, reopen: every branch of the fold."""
    return [
        make_fill(Side.BUY, "2", "100", "0.1", bot_id="bot", seconds=60),
        make_fill(Side.BUY, "1", "110", bot_id="bot", seconds=120),
        make_fill(Side.SELL, "1.5", "105", "0.05", bot_id="bot", seconds=180),
        make_fill(Side.SELL, "4", "99.5", bot_id="bot", seconds=240),  # flips short
        make_fill(
            Side.BUY, "2.5", "98", "-0.01", bot_id="bot", seconds=241.5, exec_type=ExecType.FUNDING
        ),
        make_fill(Side.BUY, "2.5", "97.25", bot_id="bot", seconds=300),  # flat
        make_fill(Side.SELL, "1", "96", bot_id="bot", symbol="ETHUSDT", seconds=360),
        make_fill(Side.BUY, "0.5", "101", bot_id="bot", seconds=420),  # reopens
    ]


def _book(portfolio: Portfolio) -> tuple[object, ...]:
    return (
        dict(portfolio.positions),
        dict(portfolio.entry_time_ms),
        portfolio.realized,
        str(portfolio.realized),
        dict(portfolio._last),
        dict(portfolio._filled_at),
    )


@pytest.mark.parametrize("source", [False, True])
def test_apply_at_folds_as_apply_does(source: bool) -> None:
    books = [Portfolio("bot", D(10_000)) for _ in range(4)]
    if source:
        for book in books:
            book.use_price_source(lambda symbol: 99.0)
    for fill in _fills():
        ms = to_epoch_ms(fill.exec_time)
        after = [
            books[0].apply(fill),
            books[1].apply(fill, ms),
            books[2].apply_at(fill, ms),
            books[3].apply_at(fill, 0, False),  # no time given: the fill's own is read
        ]
        assert all(position == after[0] for position in after)
        assert all(_book(book) == _book(books[0]) for book in books)
    assert books[0].entry_time_ms == {"ETHUSDT": T0_ETH, "BTCUSDT": T0_REOPEN}


T0_ETH = to_epoch_ms(make_fill(seconds=360).exec_time)
T0_REOPEN = to_epoch_ms(make_fill(seconds=420).exec_time)


def test_apply_at_takes_the_time_it_is_given() -> None:
    """As ``apply(fill, time_ms)``: the given time, not the fill's, stamps an entry."""
    fill = make_fill(Side.BUY, "1", "100", bot_id="bot", seconds=60)
    book, other = Portfolio("bot", D(10_000)), Portfolio("bot", D(10_000))
    book.apply_at(fill, 123)
    other.apply(fill, 123)
    assert book.entry_time_ms == other.entry_time_ms == {"BTCUSDT": 123}


def _flights(engine: object) -> list[tuple[object, ...]]:
    router = engine.router  # type: ignore[attr-defined]
    return [
        (
            link,
            f.request,
            f.purpose,
            f.reason,
            f.sent_ms,
            f.ref_price,
            f.follow_up,
            f.filled,
            str(f.filled),
            f.unknown,
            f.qty,
        )
        for link, f in router.inflight.items()
    ]


def test_on_fill_at_settles_as_on_fill_does() -> None:
    """Partial fills, a complete one, a follow-up (take-profit ladder) and a stranger's fill
    leave both routers in the same state, and their orders' ``qty`` is the request's."""
    engines = [make_engine()[0], make_engine()[0]]
    intent = EnterIntent(
        time_ms=T0,
        bot_id=BOT,
        symbol="BTCUSDT",
        side=Side.BUY,
        size=NotionalSize(usdt=D(2000)),
        reason="ladder",
        ref_price=D("100000"),
        take_profits=(
            TakeProfitLevel(price=D("101000"), fraction=D("0.5")),
            TakeProfitLevel(price=D("102000"), fraction=D("0.5")),
        ),
    )
    plain = EnterIntent(
        time_ms=T0,
        bot_id=BOT,
        symbol="ETHUSDT",
        side=Side.SELL,
        size=NotionalSize(usdt=D(100)),
        reason="plain",
        ref_price=D("3000"),
    )
    for engine in engines:
        engine.router.route(intent)
        engine.router.route(plain)
        for flight in engine.router.inflight.values():
            assert flight.qty is flight.request.qty
    (link, eth) = [(k, f.request) for k, f in engines[0].router.inflight.items()][1]
    btc_link = next(iter(engines[0].router.inflight))
    fills = [
        make_fill(Side.BUY, "0.005", "100000", bot_id=BOT, order_link_id=btc_link, seconds=1),
        make_fill(Side.SELL, "0.01", "3000", bot_id=BOT, order_link_id=link, seconds=2),
        make_fill(Side.BUY, "0.015", "100000", bot_id=BOT, order_link_id=btc_link, seconds=3),
        make_fill(Side.SELL, "0.02", "3000", bot_id=BOT, order_link_id="elsewhere", seconds=4),
        make_fill(Side.SELL, "0.023", "3000", bot_id=BOT, order_link_id=link, seconds=5),
    ]
    assert eth.qty == D("0.03")
    for fill in fills:
        ms = to_epoch_ms(fill.exec_time)
        for engine in engines:
            engine.portfolio.apply(fill, ms)
        engines[0].router.on_fill(fill)
        engines[1].router.on_fill_at(fill, fill.order_link_id, ms)
        assert _flights(engines[0]) == _flights(engines[1])
        assert engines[0].router.reasons == engines[1].router.reasons
    assert not engines[0].router.inflight
    assert sorted(engines[1].router.reasons.values()) == [
        "ladder",
        "plain",
        "take_profit_1",
        "take_profit_2",
    ]


def test_an_inflight_made_without_qty_reads_the_requests() -> None:
    request = make_engine()[0].router.route(
        EnterIntent(
            time_ms=T0,
            bot_id=BOT,
            symbol="BTCUSDT",
            side=Side.BUY,
            size=NotionalSize(usdt=D(1000)),
            reason="t",
            ref_price=D("100000"),
        )
    )
    assert isinstance(request, OrderRequest)
    flight = InFlight(request, Purpose.ENTRY, "t", T0, D(1))
    assert flight.qty is request.qty
    assert repr(flight) == repr(InFlight(request, Purpose.ENTRY, "t", T0, D(1), qty=D(5)))
