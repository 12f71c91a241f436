"""The cheap per-bar reads strategies use (``holds``, ``entry_time``, ``side_of``, ``entry_of``) say
what the full
``position()`` view says, on the engine's portfolio and on any other view (the harness's book);
and the engine's cheap fill labelling equals ``dataclasses.replace``."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.portfolio import Portfolio
from alphadesk.strategies.api import PortfolioView, entry_time, holds
from alphadesk.strategies.portfolio_reads import entry_of, side_of
from alphadesk.testing.builders import make_fill
from alphadesk.testing.strategy_harness import BookPortfolio


def _agree(view: PortfolioView, symbol: str) -> None:
    position = view.position(symbol)
    assert holds(view, symbol) is (position is not None)
    assert entry_time(view, symbol) == (None if position is None else position.entry_time_ms)
    assert side_of(view, symbol) is (None if position is None else position.side)
    entry = entry_of(view, symbol)
    if position is None:
        assert entry is None
    else:
        assert entry is not None
        assert entry == (position.avg_entry, position.entry_time_ms)
        if isinstance(view, Portfolio):  # the engine's own read, not the fallback
            assert view.entry_of(symbol) == entry
        assert str(entry[0]) == str(position.avg_entry)  # the same digits


def test_engine_portfolio_fast_reads_match_the_view() -> None:
    book = Portfolio("bot", Decimal(10_000))
    _agree(book, "BTCUSDT")
    opened = make_fill(Side.BUY, "2", "100", bot_id="bot", seconds=60)
    book.apply(opened)
    _agree(book, "BTCUSDT")
    assert entry_time(book, "BTCUSDT") == to_epoch_ms(opened.exec_time)
    assert side_of(book, "BTCUSDT") is Side.BUY
    book.apply(make_fill(Side.BUY, "1", "110", bot_id="bot", seconds=120))  # adding keeps it
    assert entry_time(book, "BTCUSDT") == to_epoch_ms(opened.exec_time)
    book.apply(make_fill(Side.SELL, "3", "105", bot_id="bot", seconds=180))
    _agree(book, "BTCUSDT")
    assert not holds(book, "BTCUSDT")


def test_other_views_fall_back_to_position() -> None:
    book = BookPortfolio()
    _agree(book, "ETHUSDT")
    book.open("ETHUSDT", Side.SELL, "3000", 1_760_000_000_000)
    _agree(book, "ETHUSDT")
    assert entry_time(book, "ETHUSDT") == 1_760_000_000_000
    assert side_of(book, "ETHUSDT") is Side.SELL


def test_fill_prices_under_a_price_source_reach_last_prices_when_it_goes() -> None:
    """While a price source stands in, fills leave their price aside (not made a float); once
    it is taken away, last prices are what they would have been: the later of fill and mark."""
    book = Portfolio("bot", Decimal(10_000))
    book.use_price_source(lambda symbol: 1.5)
    book.apply(make_fill(Side.BUY, "2", "100.1", bot_id="bot", seconds=60))
    book.apply(make_fill(Side.BUY, "1", "3.25", bot_id="bot", symbol="ETHUSDT", seconds=60))
    book.mark("ETHUSDT", 3.5)  # later than the ETH fill
    assert book.last_price("BTCUSDT") == 1.5
    book.use_price_source(None)
    assert book.last_price("BTCUSDT") == 100.1
    assert book.last_price("ETHUSDT") == 3.5


def test_unrealized_spelled_out_equals_the_position_and_refuses_the_same_marks() -> None:
    """Portfolio.unrealized computes a finite mark's PnL itself (Position.unrealized_pnl's
    arithmetic); a mark it cannot vouch for still goes through the position, which refuses it."""
    book = Portfolio("bot", Decimal(10_000))
    book.apply(make_fill(Side.BUY, "2.5", "100.1", fee="0.3", bot_id="bot", seconds=60))
    book.apply(make_fill(Side.SELL, "3", "3000", bot_id="bot", symbol="ETHUSDT", seconds=60))
    book.apply(make_fill(Side.SELL, "1", "2990.5", bot_id="bot", symbol="ETHUSDT", seconds=90))
    for price in (100.1, 99.95, 1e-300, 5e-324, 0.1 + 0.2, 123456789.123, 2990.5, 4000.0):
        book.use_price_source(lambda symbol, price=price: price)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            want = book.positions[symbol].unrealized_pnl(to_decimal(price))
            got = book.unrealized(symbol)
            assert got == want and str(got) == str(want)
        assert book.unrealized("ADAUSDT") == 0  # no position
    for price in (math.inf, math.nan):
        book.use_price_source(lambda symbol, price=price: price)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            with pytest.raises(InvalidField) as refused:
                book.unrealized(symbol)
            with pytest.raises(InvalidField) as direct:
                book.positions[symbol].unrealized_pnl(to_decimal(price))
            assert refused.value.field == direct.value.field == "mark_price"
            assert str(refused.value) == str(direct.value)


def test_entry_of_matches_the_view_and_refuses_the_same_marks() -> None:
    """``entry_of`` gives the view's avg_entry and entry time (same digits) for long, short,
    added-to and reduced positions under any mark, and refuses a mark ``position()`` refuses."""
    book = Portfolio("bot", Decimal(10_000))
    book.apply(make_fill(Side.BUY, "2.5", "100.1", fee="0.3", bot_id="bot", seconds=60))
    book.apply(make_fill(Side.BUY, "0.7", "101.37", bot_id="bot", seconds=90))
    book.apply(make_fill(Side.SELL, "3", "3000", bot_id="bot", symbol="ETHUSDT", seconds=60))
    book.apply(make_fill(Side.SELL, "1", "2990.5", bot_id="bot", symbol="ETHUSDT", seconds=90))
    book.apply(make_fill(Side.BUY, "1.5", "2980", bot_id="bot", symbol="ETHUSDT", seconds=95))
    book.apply(make_fill(Side.BUY, "1", "3.25", bot_id="bot", symbol="SOLUSDT", seconds=60))
    book.apply(make_fill(Side.SELL, "1", "3.5", bot_id="bot", symbol="SOLUSDT", seconds=70))
    symbols = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT")  # SOL closed, ADA never traded
    for symbol in symbols:  # no mark yet
        _agree(book, symbol)
    for price in (100.1, 0.0, -1.0, 1e-300, 5e-324, 123456789.123, 2990.5):
        book.use_price_source(lambda symbol, price=price: price)
        for symbol in symbols:
            _agree(book, symbol)
    book.use_price_source(None)
    book.mark("BTCUSDT", 99.5)
    _agree(book, "BTCUSDT")
    for price in (math.inf, math.nan):
        book.use_price_source(lambda symbol, price=price: price)
        for symbol in ("BTCUSDT", "ETHUSDT"):  # held: position() refuses the mark
            with pytest.raises(InvalidField) as refused:
                book.position(symbol)
            with pytest.raises(InvalidField) as also:
                entry_of(book, symbol)
            assert str(also.value) == str(refused.value)
        for symbol in ("SOLUSDT", "ADAUSDT"):  # flat: None, whatever the mark
            _agree(book, symbol)
    book.use_price_source(lambda symbol: -math.inf)
    for symbol in symbols:
        _agree(book, symbol)
