"""The backtest's order gateway over the shared matching engine.

Fill convention: a decision made at a bar's close is executed at the *next* bar's open of that
symbol (backtesting.py's default, and what a live bot gets when its order lands just after the
close). Market orders therefore wait here until that open: the venue is told the open price as a
tick, then the orders are placed and fill at it, then the matching engine walks the rest of the
bar. Protection changes and cancels act at once, at the decision time.
"""

from __future__ import annotations

from collections.abc import Iterable

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.runner import Engine


class BacktestVenue:
    """Implements :class:`~alphadesk.engine.ports.OrderGateway` for one bot's account."""

    def __init__(self, sim: MatchingEngine, account: str) -> None:
        # The engine folds every fill of the account, so a completely filled order's status
        # update tells it nothing its fills did not: the venue does not make them.
        sim.report_filled(False)
        self.sim = sim
        self.account = account
        self.engine: Engine | None = None
        self.pending: dict[str, list[OrderRequest]] = {}
        self.resting: dict[str, bool] = {}
        self.now_ms = 0

    # -- OrderGateway ---------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> None:
        self.pending.setdefault(request.symbol, []).append(request)

    def cancel(self, request: CancelRequest) -> None:
        queued = self.pending.get(request.symbol, [])
        for order in queued:
            if order.order_link_id == request.order_link_id:
                queued.remove(order)
                assert self.engine is not None
                self.engine.on_reject(order, "cancelled before it reached the venue", self.now_ms)
                return
        outcome = self.sim.cancel(self.account, request, self.now_ms)
        self._dispatch(outcome.events)
        self._refresh(request.symbol)

    def set_trading_stop(self, request: TradingStopRequest) -> None:
        outcome = self.sim.set_trading_stop(self.account, request, self.now_ms)
        self._dispatch(outcome.events)
        self._refresh(request.symbol)

    # -- the bar loop ---------------------------------------------------------------------------

    def open(self, symbol: str, price: float, open_ms: int) -> None:
        """Place the orders decided at the previous close, at this bar's open."""
        self.now_ms = open_ms
        pending = self.pending
        orders = pending.get(symbol)  # pending.pop(symbol, []): get and del are C primitives on
        if orders is None:  # the compiled build, where pop was a generic method call
            orders = []
        else:
            del pending[symbol]
        sim = self.sim
        ticked = sim.on_tick(symbol, price, open_ms)  # on_price(to_decimal(price)), lazily
        if ticked:
            self._dispatch(ticked)
        engine = self.engine
        assert engine is not None
        for request in orders:
            try:  # sim.place without its Outcome (an interpreted object per order)
                known, order, events = sim.place_events(self.account, request, open_ms)
            except InvalidField as exc:
                engine.on_reject(request, f"venue refused: {exc}", open_ms)
                continue
            updated = False
            for event in events:
                if type(event) is Fill:
                    engine.on_fill(event)
                elif isinstance(event, OrderUpdated):
                    engine.on_order(event)
                    updated = True
                elif isinstance(event, Fill):
                    engine.on_fill(event)
            # no update (a filled order's is not reported: see the constructor): the engine
            # hears the final snapshot only if it still waits for the order, which its fills
            # did not settle
            if not updated and engine.awaits(request.order_link_id):
                # Outcome.order: the snapshot after the command, or an ended order's own
                snapshot = known if known is not None else order.snapshot()
                engine.on_order(OrderUpdated(sim.venue, self.account, snapshot))
        self.resting[symbol] = sim.has_resting(self.account, symbol)  # self._refresh(symbol)

    def walk(
        self, symbol: str, o: float, h: float, lo: float, c: float, open_ms: int, close_ms: int
    ) -> None:
        events = self.sim.on_bar(symbol, o, h, lo, c, open_ms, close_ms)
        self.now_ms = close_ms
        if events:
            self._dispatch(events)
            self._refresh(symbol)

    def pass_quiet(self, symbol: str, close: float, close_ms: int) -> None:
        """:meth:`walk` over a stretch of bars the engine's ``quiet_bounds`` showed fire
        nothing: the venue and the engine end as walking each of them would leave them."""
        self.sim.pass_quiet(symbol, close, close_ms)
        self.now_ms = close_ms

    def _dispatch(self, events: Iterable[SimEvent]) -> None:
        engine = self.engine
        assert engine is not None
        for event in events:
            if isinstance(event, Fill):
                engine.on_fill(event)
            elif isinstance(event, OrderUpdated):
                engine.on_order(event)

    def _refresh(self, symbol: str) -> None:
        """Whether anything rests on ``symbol``: then every bar must be walked."""
        self.resting[symbol] = self.sim.has_resting(self.account, symbol)
