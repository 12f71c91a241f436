"""Reconcile: the ledger against the venue, as a list of typed differences.

:func:`diff` is pure: it takes what the ledger holds and what the venue reports for one account
(positions, open orders, executions over a window, closed PnL) and says where they differ. It
never decides what to do. :class:`Reconciler` reads both sides through ports and, only when told
to repair, writes the executions the ledger lacks through the one entrance (a
:class:`~alphadesk.engine.recorder.FillRecorder`) and puts a bot whose position the ledger still
cannot explain into REDUCING (its kill-switch state and ``trading.bots.status``) with an alert of
kind ``reconcile_mismatch``. Nothing the venue lacks is ever deleted from the ledger: a fill the
venue does not report is shown, not removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from alphadesk.domain.alerts import Alert
from alphadesk.domain.enums import Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.domain.positions import fold
from alphadesk.domain.roundtrips import FifoMatcher, RoundTrip
from alphadesk.engine.alerting import AlertSink, raise_alert
from alphadesk.engine.bot_registry import status_for
from alphadesk.engine.clock import utc_now
from alphadesk.strategies.api import TradingState

ZERO = Decimal(0)
#: Bybit reports average prices and closed PnL rounded; a relative price gap or an absolute PnL
#: gap below these is rounding, not a disagreement.
PRICE_TOLERANCE = Decimal("0.000001")
PNL_TOLERANCE = Decimal("0.0001")


class Kind(StrEnum):
    POSITION = "position"
    FILL_NOT_IN_LEDGER = "fill_not_in_ledger"
    FILL_NOT_AT_VENUE = "fill_not_at_venue"
    ORDER_NOT_IN_LEDGER = "order_not_in_ledger"
    ORDER_NOT_AT_VENUE = "order_not_at_venue"
    PNL = "pnl"


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement. ``ledger``/``venue`` say, as text, what each side holds; ``fill`` is
    the venue's execution when the ledger lacks it (what ``--repair`` records)."""

    kind: Kind
    account: str
    symbol: str
    ref: str
    ledger: str
    venue: str
    fill: Fill | None = None


@dataclass(frozen=True, slots=True)
class PositionView:
    """A net position on one symbol: signed quantity and average entry price."""

    qty: Decimal
    avg_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderView:
    order_id: str
    symbol: str
    side: Side
    qty: Decimal


@dataclass(frozen=True, slots=True)
class AccountView:
    """One side's view of one account. ``fills`` are the executions inside the compared window;
    ``open_orders``/``closed_pnl`` are None when that side cannot say (then not compared)."""

    account: str
    positions: Mapping[str, PositionView]
    fills: Mapping[str, Fill]
    open_orders: Mapping[str, OrderView] | None = None
    closed_pnl: Mapping[str, Decimal] | None = None
    """Venue side only: the closed PnL of each closing order id (Bybit's ``closed-pnl``)."""


def _num(value: Decimal) -> str:
    """Plain digits, no exponent and no trailing zeros (``1E+2`` reads badly in a table)."""
    return format(value.normalize(), "f")


def _qty(value: Decimal) -> str:
    return ("+" if value > 0 else "") + _num(value)


def _positions(ledger: AccountView, venue: AccountView, tolerance: Decimal) -> list[Difference]:
    found: list[Difference] = []
    flat = PositionView(ZERO, ZERO)
    for symbol in sorted(set(ledger.positions) | set(venue.positions)):
        ours = ledger.positions.get(symbol, flat)
        theirs = venue.positions.get(symbol, flat)
        same_size = ours.qty == theirs.qty
        gap = abs(ours.avg_price - theirs.avg_price)
        same_price = not ours.qty or gap <= theirs.avg_price * tolerance
        if same_size and same_price:
            continue
        found.append(Difference(
            Kind.POSITION, venue.account, symbol, "",
            f"{_qty(ours.qty)} @ {_num(ours.avg_price)}" if ours.qty else "flat",
            f"{_qty(theirs.qty)} @ {_num(theirs.avg_price)}" if theirs.qty else "flat",
        ))  # fmt: skip
    return found


def _fill_text(fill: Fill) -> str:
    when = f"{fill.exec_time:%Y-%m-%d %H:%M:%S}"
    return f"{fill.exec_type.value} {fill.side.value} {fill.qty} @ {fill.price} {when}"


def _fills(ledger: AccountView, venue: AccountView) -> list[Difference]:
    found: list[Difference] = []
    for exec_id in sorted(set(venue.fills) - set(ledger.fills)):
        fill = venue.fills[exec_id]
        found.append(Difference(Kind.FILL_NOT_IN_LEDGER, venue.account, fill.symbol, exec_id,
                                "missing", _fill_text(fill), fill))  # fmt: skip
    for exec_id in sorted(set(ledger.fills) - set(venue.fills)):
        fill = ledger.fills[exec_id]
        found.append(Difference(Kind.FILL_NOT_AT_VENUE, venue.account, fill.symbol, exec_id,
                                _fill_text(fill), "missing"))  # fmt: skip
    return found


def _orders(ledger: AccountView, venue: AccountView) -> list[Difference]:
    if ledger.open_orders is None or venue.open_orders is None:
        return []
    found: list[Difference] = []
    for order_id in sorted(set(ledger.open_orders) | set(venue.open_orders)):
        ours, theirs = ledger.open_orders.get(order_id), venue.open_orders.get(order_id)
        if ours is not None and theirs is not None:
            continue
        order = theirs or ours
        assert order is not None
        text = f"open {order.side.value} {order.qty}"
        kind = Kind.ORDER_NOT_IN_LEDGER if ours is None else Kind.ORDER_NOT_AT_VENUE
        found.append(Difference(kind, venue.account, order.symbol, order_id,
                                "not open" if ours is None else text,
                                text if ours is None else "not open"))  # fmt: skip
    return found


# --- Round trips against closed PnL ---------------------------------------------------------
# Until the ledger's round trips are stored (trading.completed_trades, built in issue 14's
# round-trip part), they are matched here from the ledger's fills with domain.roundtrips.
# Bybit's closed PnL averages the entry price; FIFO round trips do not, so one partial close
# differs between the two while whole episodes (flat to flat) agree exactly: the comparison is
# per episode, over the closing orders the venue reported. Funding is not in Bybit's figure.


def _episodes(fills: Sequence[Fill]) -> Iterable[list[RoundTrip]]:
    """The round trips of each flat-to-flat episode of one bot's fills on one symbol."""
    if not fills:
        return
    matcher = FifoMatcher(fills[0].bot_id, fills[0].symbol)
    episode: list[RoundTrip] = []
    for fill in in_fold_order(fills):
        episode.extend(matcher.add(fill))
        if fill.moves_position and episode and matcher.open_qty == 0:
            yield episode
            episode = []


def pnl_differences(
    account: str,
    ledger_fills: Iterable[Fill],
    closed_pnl: Mapping[str, Decimal],
    *,
    tolerance: Decimal = PNL_TOLERANCE,
) -> list[Difference]:
    """Each closed episode's round-trip PnL (before funding) against the venue's closed PnL of
    the same closing orders; an episode with a closing order the venue did not report (outside
    the window) is not compared."""
    groups: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in ledger_fills:
        groups[(fill.bot_id, fill.symbol)].append(fill)
    found: list[Difference] = []
    for (_bot, symbol), fills in sorted(groups.items()):
        for episode in _episodes(fills):
            orders = sorted({t.exit_order_id for t in episode})
            if not all(o in closed_pnl for o in orders):
                continue
            ours = sum((t.net_pnl + t.funding for t in episode), ZERO)
            theirs = sum((closed_pnl[o] for o in orders), ZERO)
            if abs(ours - theirs) > tolerance:
                found.append(Difference(Kind.PNL, account, symbol, ",".join(orders),
                                        _num(ours), _num(theirs)))
    return found


def diff(
    ledger: AccountView,
    venue: AccountView,
    *,
    ledger_history: Iterable[Fill] = (),
    price_tolerance: Decimal = PRICE_TOLERANCE,
) -> list[Difference]:
    """Every difference between the two views of one account. ``ledger_history`` is the
    ledger's whole fill history of the account, for the round-trip comparison (round trips
    need their entries, which may precede the window)."""
    found = _positions(ledger, venue, price_tolerance)
    found += _orders(ledger, venue)
    found += _fills(ledger, venue)
    if venue.closed_pnl is not None:
        found += pnl_differences(venue.account, ledger_history, venue.closed_pnl)
    return found


def ledger_positions(fills: Iterable[Fill]) -> dict[str, PositionView]:
    """The account's net positions folded from its fills (every bot's, ``unknown`` too)."""
    groups: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in fills:
        groups[(fill.bot_id, fill.symbol)].append(fill)
    qty: dict[str, Decimal] = defaultdict(Decimal)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for (bot, symbol), group in groups.items():
        position = fold(bot, symbol, group)
        qty[symbol] += position.qty
        cost[symbol] += position.cost
    return {
        s: PositionView(q, cost[s] / abs(q) if q else ZERO) for s, q in qty.items() if q
    }


# --- Reading both sides and repairing ------------------------------------------------------


class VenueReader(Protocol):
    """The venue's view of one account (the Bybit client, through an adapter)."""

    account: str

    async def view(self, start: datetime, end: datetime) -> AccountView: ...


class LedgerReader(Protocol):
    async def read_fills(self, *, venue: str | None = None,
                         account: str | None = None) -> list[Fill]: ...


class Recorder(Protocol):
    """The one entrance (:class:`~alphadesk.engine.recorder.FillRecorder`)."""

    async def record(self, fills: Sequence[Fill]) -> object: ...


class Reducer(Protocol):
    """Puts a bot into a kill-switch state where it is kept (state file and ``trading.bots``)."""

    async def set_state(self, bot_id: str, state: TradingState, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Report:
    account: str
    differences: tuple[Difference, ...]
    repaired: tuple[str, ...] = ()
    """Exec ids recorded by the repair."""
    after: tuple[Difference, ...] = ()
    """What is still different after the repair."""
    reduced: tuple[str, ...] = ()
    """Bots put into REDUCING because their position is still unexplained."""


@dataclass
class Reconciler:
    """One account: ``bots`` are the configured bots trading on it (a position the ledger cannot
    explain puts each of them into REDUCING when repairing)."""

    venue_name: str
    venue: VenueReader
    ledger: LedgerReader
    bots: Sequence[str]
    clock: Callable[[], datetime] = utc_now
    recorder: Recorder | None = None
    reducer: Reducer | None = None
    alerts: AlertSink | None = None
    ledger_orders: Callable[[str], Awaitable[Mapping[str, OrderView]]] | None = None
    """The ledger's open orders of an account (``trading.orders``), when a reader is given."""

    async def compare(self, start: datetime, end: datetime) -> tuple[list[Difference], list[Fill]]:
        venue = await self.venue.view(start, end)
        history = await self.ledger.read_fills(venue=self.venue_name, account=self.venue.account)
        in_window = {f.exec_id: f for f in history if start <= f.exec_time <= end}
        orders = None
        if self.ledger_orders is not None:
            orders = await self.ledger_orders(self.venue.account)
        ours = AccountView(self.venue.account, ledger_positions(history), in_window,
                           open_orders=orders)
        return diff(ours, venue, ledger_history=history), history

    async def run(self, start: datetime, end: datetime, *, repair: bool = False) -> Report:
        """Compare; with ``repair``, record the missing fills through the entrance, compare
        again, and reduce the bots of a position still unexplained."""
        found, _ = await self.compare(start, end)
        if not repair or not found:
            return Report(self.venue.account, tuple(found))
        if self.recorder is None or self.reducer is None:
            raise ValueError("reconcile repair needs a recorder and a reducer")
        missing = [d.fill for d in found if d.fill is not None]
        if missing:
            await self.recorder.record(in_fold_order(missing))
        after, _ = await self.compare(start, end)
        unexplained = [d for d in after if d.kind is Kind.POSITION]
        reduced: list[str] = []
        reducing = status_for(TradingState.REDUCING)
        if unexplained:
            for bot in self.bots:
                reason = "reconcile: position not explained by the ledger"
                await self.reducer.set_state(bot, TradingState.REDUCING, reason)
                reduced.append(bot)
            for d in unexplained:
                await raise_alert(self.alerts, Alert(
                    kind="reconcile_mismatch", venue=self.venue_name, account=d.account,
                    symbol=d.symbol,
                    message=f"venue {d.venue} vs ledger {d.ledger}; "
                            f"{', '.join(reduced) or 'no bot'} set {reducing}",
                    at=self.clock(), details={"venue": d.venue, "ledger": d.ledger},
                ))  # fmt: skip
        return Report(
            self.venue.account, tuple(found),
            repaired=tuple(f.exec_id for f in missing), after=tuple(after), reduced=tuple(reduced),
        )  # fmt: skip
