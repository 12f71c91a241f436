"""The pure diff of engine/reconcile: each kind of difference found, nothing found when equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill
from alphadesk.engine.reconcile import (
    AccountView,
    Kind,
    OrderView,
    PositionView,
    diff,
    ledger_positions,
    pnl_differences,
)

T0 = datetime(2025, 10, 1, tzinfo=UTC)
D = Decimal


def fill(exec_id: str, side: Side, qty: str, price: str, minute: int, *, fee: str = "0",
         order: str = "", kind: ExecType = ExecType.TRADE, bot: str = "bot_1") -> Fill:
    return Fill(venue="bybit", account="acct", exec_id=exec_id, bot_id=bot, symbol="BTCUSDT",
                side=side, price=D(price), qty=D(qty), fee=D(fee),
                exec_time=T0 + timedelta(minutes=minute), exec_type=kind,
                order_id=order or f"o-{exec_id}")


def view(fills: list[Fill], **extra: object) -> AccountView:
    return AccountView("acct", ledger_positions(fills), {f.exec_id: f for f in fills},
                       **extra)  # type: ignore[arg-type]


def test_equal_views_have_no_difference() -> None:
    fills = [fill("a", Side.BUY, "2", "100", 0), fill("b", Side.SELL, "1", "110", 1)]
    orders = {"o1": OrderView("o1", "BTCUSDT", Side.SELL, D(1))}
    assert diff(view(fills, open_orders=orders), view(fills, open_orders=orders)) == []


def test_a_fill_missing_from_the_ledger_is_found_with_the_venue_fill() -> None:
    venue_fills = [fill("a", Side.BUY, "2", "100", 0), fill("b", Side.SELL, "1", "110", 1)]
    found = diff(view(venue_fills[:1]), view(venue_fills))
    kinds = sorted(d.kind for d in found)
    assert kinds == [Kind.FILL_NOT_IN_LEDGER, Kind.POSITION]
    missing = next(d for d in found if d.kind is Kind.FILL_NOT_IN_LEDGER)
    assert missing.ref == "b" and missing.fill == venue_fills[1]
    position = next(d for d in found if d.kind is Kind.POSITION)
    assert position.ledger == "+2 @ 100" and position.venue == "+1 @ 100"


def test_a_fill_the_venue_does_not_report_is_shown_not_repairable() -> None:
    ours = [fill("a", Side.BUY, "1", "100", 0), fill("ghost", Side.BUY, "1", "100", 2)]
    found = diff(view(ours), view(ours[:1]))
    ghost = next(d for d in found if d.kind is Kind.FILL_NOT_AT_VENUE)
    assert ghost.ref == "ghost" and ghost.fill is None and ghost.venue == "missing"


def test_side_and_average_price_differences() -> None:
    ledger = AccountView("acct", {"BTCUSDT": PositionView(D(1), D(100))}, {})
    short = AccountView("acct", {"BTCUSDT": PositionView(D(-1), D(100))}, {})
    dearer = AccountView("acct", {"BTCUSDT": PositionView(D(1), D("100.5"))}, {})
    rounded = AccountView("acct", {"BTCUSDT": PositionView(D(1), D("100.00001"))}, {})
    assert [d.venue for d in diff(ledger, short)] == ["-1 @ 100"]
    assert [d.venue for d in diff(ledger, dearer)] == ["+1 @ 100.5"]
    assert diff(ledger, rounded) == []  # within Bybit's rounding of avgPrice


def test_open_orders_missing_on_either_side() -> None:
    a = OrderView("o1", "BTCUSDT", Side.BUY, D(1))
    b = OrderView("o2", "BTCUSDT", Side.SELL, D(2))
    found = diff(view([], open_orders={"o1": a}), view([], open_orders={"o2": b}))
    assert {(d.kind, d.ref) for d in found} == {
        (Kind.ORDER_NOT_AT_VENUE, "o1"), (Kind.ORDER_NOT_IN_LEDGER, "o2")
    }
    # a side that cannot say (None) is not compared
    assert diff(view([]), view([], open_orders={"o2": b})) == []


def test_funding_is_a_fill_but_not_a_position() -> None:
    fills = [fill("a", Side.BUY, "1", "100", 0),
             fill("f", Side.SELL, "1", "100", 5, fee="0.01", kind=ExecType.FUNDING)]
    assert ledger_positions(fills)["BTCUSDT"].qty == D(1)
    found = diff(view(fills[:1]), view(fills))
    assert [d.kind for d in found] == [Kind.FILL_NOT_IN_LEDGER]


def test_closed_pnl_is_compared_per_flat_to_flat_episode() -> None:
    # two entries at different prices, closed by two orders: FIFO and Bybit's average cost
    # disagree on the first close but agree on the episode
    fills = [
        fill("e1", Side.BUY, "1", "100", 0, fee="0.1"),
        fill("e2", Side.BUY, "1", "120", 1, fee="0.1"),
        fill("x1", Side.SELL, "1", "130", 2, fee="0.1", order="c1"),
        fill("x2", Side.SELL, "1", "140", 3, fee="0.1", order="c2"),
    ]
    # average cost 110: c1 = 20 - 0.1 - 0.1, c2 = 30 - 0.1 - 0.1
    venue = {"c1": D("19.8"), "c2": D("29.8")}
    assert pnl_differences("acct", fills, venue) == []
    wrong = {"c1": D("19.8"), "c2": D("28.8")}
    [found] = pnl_differences("acct", fills, wrong)
    assert found.kind is Kind.PNL and found.ref == "c1,c2"
    assert (found.ledger, found.venue) == ("49.6", "48.6")
    # an episode with a closing order the venue did not report (outside the window) is skipped
    assert pnl_differences("acct", fills, {"c2": D("0")}) == []


def test_an_open_episode_is_not_compared() -> None:
    fills = [fill("e1", Side.BUY, "2", "100", 0), fill("x1", Side.SELL, "1", "130", 2, order="c1")]
    assert pnl_differences("acct", fills, {"c1": D("999")}) == []
