"""BacktestVenue.open takes the symbol's queued orders out of ``pending`` as
``pending.pop(symbol, [])`` did (a get and a del on the compiled build): the symbol's orders
are placed in order, its key is gone, the other symbols' queues stay, and a symbol with nothing
queued places nothing and adds no key."""

from __future__ import annotations

from decimal import Decimal

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.backtest.venue import BacktestVenue
from alphadesk.domain.enums import Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.runner import Engine

from .test_wake_at import Alarm
from .walks import T0, rules


def _venue() -> BacktestVenue:
    sim = MatchingEngine("paper", [rules("AAAUSDT"), rules("BBBUSDT")])
    sim.open_account("bot", Decimal(100_000))
    venue = BacktestVenue(sim, "bot")
    venue.engine = Engine(
        Alarm(),
        bot_id="bot",
        instruments={s: rules(s) for s in ("AAAUSDT", "BBBUSDT")},
        gateway=venue,
        initial_cash=Decimal(1000),
    )
    return venue


def _placed(venue: BacktestVenue) -> list[str]:
    return sorted(o.order.order_link_id for o in venue.sim.order_history("bot"))


def test_open_places_the_symbols_queue_and_drops_its_key_only() -> None:
    venue = _venue()
    for link in ("a1", "a2"):  # another bot's: the engine leaves its fills alone
        venue.submit(OrderRequest("other", "AAAUSDT", Side.BUY, Decimal(1), link))
    venue.submit(OrderRequest("other", "BBBUSDT", Side.BUY, Decimal(1), "b1"))
    venue.open("AAAUSDT", 100.0, T0)
    assert _placed(venue) == ["a1", "a2"]
    assert list(venue.pending) == ["BBBUSDT"]
    assert [r.order_link_id for r in venue.pending["BBBUSDT"]] == ["b1"]
    venue.open("AAAUSDT", 101.0, T0 + 60_000)  # nothing queued: nothing placed, no key made
    assert _placed(venue) == ["a1", "a2"]
    assert list(venue.pending) == ["BBBUSDT"]


def test_an_emptied_queue_is_taken_like_a_full_one() -> None:
    venue = _venue()
    venue.pending["AAAUSDT"] = []  # left by a cancel before the venue saw the order
    venue.open("AAAUSDT", 100.0, T0)
    assert venue.pending == {}
    assert _placed(venue) == []
