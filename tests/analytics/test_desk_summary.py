"""The seed's analytics summary (the demo prints it): fills and volume count trades only, funding
is PnL but not a fill, a win is a round trip with net PnL above zero, every named bot is listed."""

from __future__ import annotations

from decimal import Decimal

from alphadesk.analytics.desk import summarize
from alphadesk.domain.enums import ExecType
from alphadesk.domain.roundtrips import match
from alphadesk.testing.builders import make_fill


def test_fills_volume_win_rate_per_bot_and_top_symbols() -> None:
    a = [
        make_fill("Buy", "2", "100", "0.2", seconds=0, bot_id="a"),
        make_fill("Sell", "1", "110", "0.1", seconds=60, bot_id="a"),  # +10 - 0.1 - 0.1 = 9.8
        make_fill("Buy", "2", "100", "0.5", seconds=90, bot_id="a",
                  exec_type=ExecType.FUNDING),  # pays 0.5 funding: PnL, not a fill
        make_fill("Sell", "1", "90", "0.1", seconds=120, bot_id="a"),  # -10 - 0.2 = -10.2
    ]
    b = [
        make_fill("Sell", "1", "50", "0", seconds=0, bot_id="b", symbol="ETHUSDT"),
        make_fill("Buy", "1", "40", "0", seconds=60, bot_id="b", symbol="ETHUSDT"),  # +10
    ]
    trips = match("a", "BTCUSDT", a) + match("b", "ETHUSDT", b)
    summary = summarize([*a, *b], trips, bots=["b", "a", "idle"], top=1)

    assert [x.bot_id for x in summary.bots] == ["b", "a", "idle"]
    fa, fb, idle = summary.bots[1], summary.bots[0], summary.bots[2]
    assert (fa.fills, fa.volume, fa.fees, fa.funding) == (3, Decimal(400), Decimal("0.4"),
                                                          Decimal("-0.5"))
    assert (fa.round_trips, fa.wins) == (2, 1)
    assert fa.net_pnl == sum((t.net_pnl for t in trips if t.bot_id == "a"), Decimal(0))
    assert (fb.fills, fb.volume, fb.round_trips, fb.wins, fb.net_pnl) == (
        2, Decimal(90), 1, 1, Decimal(10))
    assert (idle.fills, idle.round_trips, idle.win_rate) == (0, 0, Decimal(0))
    assert summary.fills == 5 and summary.volume == Decimal(490)
    assert summary.win_rate == Decimal(2) / 3
    assert summary.top_symbols == (("BTCUSDT", 3),)
