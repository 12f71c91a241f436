"""What the matching engine hands back: outcomes of a command, history records and pages.

Events are plain domain objects (:class:`Fill`, :class:`OrderUpdated`, :class:`PositionReported`,
:class:`WalletReported`) so the paper venue and the backtest pass them straight to the engine core.
The Bybit simulator needs more than a domain Fill or Order carries (``stopOrderType``,
``feeRate``, ``leavesQty`` …); :class:`Execution` and :class:`OrderView` carry those extras
alongside the domain object instead of widening the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from alphadesk.domain.enums import Side
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.orders import Order

SimEvent = Fill | OrderUpdated | PositionReported | WalletReported
EMPTY: tuple[SimEvent, ...] = ()


class StopOrderType(StrEnum):
    """Bybit ``stopOrderType``: empty for a plain order."""

    NONE = ""
    STOP = "Stop"
    TAKE_PROFIT = "TakeProfit"
    STOP_LOSS = "StopLoss"
    TRAILING_STOP = "TrailingStop"


class CreateType(StrEnum):
    BY_USER = "CreateByUser"
    BY_TAKE_PROFIT = "CreateByTakeProfit"
    BY_STOP_LOSS = "CreateByStopLoss"
    BY_TRAILING_STOP = "CreateByTrailingStop"


class Outcome:
    """The result of a command: the order it concerns (None for trading-stop) and the events.

    ``order`` is the order's snapshot after the command. For an order that the command ended
    (filled, cancelled) nothing can change it any more, so :meth:`later` builds the snapshot
    only when ``order`` is first read: a backtest reads it for almost no order."""

    __slots__ = ("_later", "_order", "events")

    def __init__(self, order: Order | None, events: tuple[SimEvent, ...] = EMPTY) -> None:
        self._order = order
        self._later: Callable[[], Order] | None = None
        self.events = events

    @classmethod
    def later(cls, snapshot: Callable[[], Order], events: tuple[SimEvent, ...]) -> Outcome:
        """``snapshot()`` (of an order in a final state) made on first reading of ``order``."""
        made = object.__new__(cls)  # the fields written here: one call fewer than cls(...)
        made._order, made._later, made.events = None, snapshot, events
        return made

    @property
    def order(self) -> Order | None:
        if self._later is not None:
            self._order, self._later = self._later(), None
        return self._order

    @property
    def fills(self) -> list[Fill]:
        return [e for e in self.events if isinstance(e, Fill)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        return (self.order, self.events) == (other.order, other.events)

    def __hash__(self) -> int:
        return hash((self.order, self.events))

    def __repr__(self) -> str:
        return f"Outcome(order={self.order!r}, events={self.events!r})"


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with the Bybit fields the domain Order leaves out."""

    account: str
    order: Order
    stop_order_type: StopOrderType
    create_type: CreateType
    trigger_direction: int
    take_profit: Decimal | None
    stop_loss: Decimal | None
    cum_exec_value: Decimal
    cum_exec_fee: Decimal
    last_price_on_created: Decimal | None
    close_on_trigger: bool = False


@dataclass(frozen=True, slots=True)
class Execution:
    """One entry of the execution history: the domain fill plus Bybit's per-execution extras."""

    seq: int
    fill: Fill
    exec_ms: int
    fee_rate: Decimal
    order_price: Decimal | None
    order_qty: Decimal
    leaves_qty: Decimal
    mark_price: Decimal
    stop_order_type: StopOrderType = StopOrderType.NONE
    create_type: CreateType = CreateType.BY_USER


@dataclass(frozen=True, slots=True)
class ClosedPnl:
    """One record of Bybit's ``/v5/position/closed-pnl``: written by each fill that reduces.

    ``side`` is the side of the *closing* order (Sell closes a long). ``closed_pnl`` is net:
    gross PnL minus the share of opening fees being closed (``open_fee``) minus ``close_fee``.
    Funding is not in it, as on Bybit.
    """

    seq: int
    account: str
    symbol: str
    order_id: str
    order_type: str
    side: Side
    qty: Decimal
    order_price: Decimal
    avg_entry_price: Decimal
    avg_exit_price: Decimal
    cum_entry_value: Decimal
    cum_exit_value: Decimal
    closed_pnl: Decimal
    open_fee: Decimal
    close_fee: Decimal
    leverage: Decimal
    created_ms: int
    updated_ms: int
    exec_type: str = "Trade"
    fill_count: int = 1

    @property
    def gross_pnl(self) -> Decimal:
        return self.closed_pnl + self.open_fee + self.close_fee


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Newest first; pass ``next_cursor`` back for the next page, empty when there is none."""

    items: Sequence[T]
    next_cursor: str = ""
