"""Order commands: validate like Bybit, then accept, fill at once, rest, amend or cancel.

Every refusal is an :class:`OrderRejected` naming the field, the value and Bybit's ``retCode``,
raised before any state changes, so a refused command leaves the venue exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphadesk.adapters.sim.core import TERMINAL
from alphadesk.adapters.sim.matcher import Matcher
from alphadesk.adapters.sim.pricing import slipped
from alphadesk.adapters.sim.records import CreateType, Outcome, SimEvent, StopOrderType
from alphadesk.adapters.sim.rejects import POST_ONLY_WOULD_TAKE, OrderRejected, RejectCode
from alphadesk.adapters.sim.requests import AmendRequest, SimOrderRequest, TriggerDirection
from alphadesk.adapters.sim.state import ZERO, SimAccount, SimOrder, SymbolBook
from alphadesk.domain.checks import plain_non_negative, plain_positive
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.grid import on_grid
from alphadesk.domain.orders import Order
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

P: Final = RejectCode.PARAMS_ERROR
# Enum members read per order, bound once: on Python 3.11 ``OrderType.MARKET`` goes through
# EnumType.__getattr__'s lookup hook, about ten times the cost of reading a module global.
_BUY: Final = Side.BUY
_MARKET: Final = OrderType.MARKET
_LIMIT: Final = OrderType.LIMIT
_POST_ONLY: Final = TimeInForce.POST_ONLY
_NO_DIRECTION: Final = TriggerDirection.NONE
_STOP: Final = StopOrderType.STOP
_NO_STOP: Final = StopOrderType.NONE
_BY_USER: Final = CreateType.BY_USER


def _on_tick(book: SymbolBook, field: str, price: Decimal | None) -> None:
    if price is None or (
        plain_positive(price) and on_grid(price, book.tick_size)
    ):  # plainly on the grid: round_price's check passes and it gives the price back
        return
    instrument = book.instrument
    if price != instrument.round_price(price):
        raise OrderRejected(
            P, field, price, f"is not a multiple of tick_size {instrument.tick_size}"
        )


def _check_qty(book: SymbolBook, qty: Decimal) -> None:
    """The instrument's qty rules (the book holds its limits, read natively on the native build)."""
    if not (
        plain_non_negative(qty) and on_grid(qty, book.qty_step)
    ) and qty != book.instrument.round_qty(qty):  # plainly on the grid, else round_qty says
        raise OrderRejected(P, "qty", qty, f"is not a multiple of qty_step {book.qty_step}")
    if qty < book.min_qty:
        raise OrderRejected(P, "qty", qty, f"is below min_qty {book.min_qty}")
    if book.max_qty is not None and qty > book.max_qty:
        raise OrderRejected(P, "qty", qty, f"is above max_qty {book.max_qty}")


def _check_tp_sl(side: Side, ref: Decimal, tp: Decimal | None, sl: Decimal | None) -> None:
    """A buy's (long's) TP must be above the reference price and its SL below; a sell's mirrored."""
    up = side is Side.BUY
    if tp and (tp <= ref if up else tp >= ref):
        word = "above" if up else "below"
        raise OrderRejected(P, "take_profit", tp, f"must be {word} {ref} for a {side} position")
    if sl and (sl >= ref if up else sl <= ref):
        word = "below" if up else "above"
        raise OrderRejected(P, "stop_loss", sl, f"must be {word} {ref} for a {side} position")


class OrderDesk(Matcher):
    def _find(self, acct: SimAccount, order_id: str, order_link_id: str) -> SimOrder:
        oid = order_id or acct.link_ids.get(order_link_id, "")
        order = acct.orders.get(oid)
        if order is None or (order_id and order_link_id and order.order_link_id != order_link_id):
            raise OrderRejected(
                RejectCode.ORDER_NOT_EXISTS,
                "order_id" if order_id else "order_link_id",
                order_id or order_link_id,
                "order not exists",
            )
        return order

    def _find_open(self, acct: SimAccount, symbol: str, oid: str, link: str) -> SimOrder:
        order = self._find(acct, oid, link)
        if not order.is_open or order.symbol != symbol:
            raise OrderRejected(
                RejectCode.ORDER_NOT_EXISTS,
                "order_id",
                order.order_id,
                f"order not exists or too late (status {order.status}, symbol {order.symbol})",
            )
        return order

    def _place(
        self,
        acct: SimAccount,
        req: SimOrderRequest | OrderRequest,
        ts_ms: int,
        trigger_direction: TriggerDirection = TriggerDirection.NONE,
        close_on_trigger: bool = False,
    ) -> tuple[Order | None, SimOrder, list[SimEvent]]:
        """``req`` is a checked request; a domain ``OrderRequest`` is taken as it is (the two
        Bybit extras it lacks come as arguments), sparing a copy per order. Gives the order's
        snapshot after the command (None when the order has ended: ``order.snapshot()`` is it
        whenever asked, as nothing can change it), the order and its events, from which
        ``MatchingEngine.place`` makes its ``Outcome`` (the backtest's venue reads them as they
        are: it wants the snapshot for almost no order, and an Outcome is interpreted)."""
        # Each field read once: on the compiled build a read of the (interpreted) request is a
        # generic attribute lookup, and _place used to make about fifty of them.
        return self._place_fields(
            acct, req, req.symbol, req.side, req.qty, req.order_link_id, req.order_type,
            req.price, req.time_in_force, req.reduce_only, req.trigger_price, req.take_profit,
            req.stop_loss, req.bot_id, ts_ms, trigger_direction, close_on_trigger,
        )  # fmt: skip

    def _place_fields(
        self,
        acct: SimAccount,
        req: SimOrderRequest | OrderRequest,
        symbol: str,
        side: Side,
        qty: Decimal,
        link: str,
        order_type: OrderType,
        price: Decimal | None,
        tif: TimeInForce,
        reduce_only: bool,
        trigger: Decimal | None,
        take_profit: Decimal | None,
        stop_loss: Decimal | None,
        bot_id: str,
        ts_ms: int,
        trigger_direction: TriggerDirection,
        close_on_trigger: bool,
    ) -> tuple[Order | None, SimOrder, list[SimEvent]]:
        """:meth:`_place` of ``req``'s fields, read already (``MatchingEngine.place_events``
        reads a domain request's itself, to see that it may take it as it is)."""
        book = self._books.get(symbol)
        if book is None:
            book = self._book(symbol)  # raises: not listed
        inst = book.instrument
        if link and link in acct.link_ids:
            raise OrderRejected(RejectCode.DUPLICATE_LINK_ID, "order_link_id", link, "duplicate")
        max_qty = book.max_qty  # the instrument's limits, as the book holds them (native reads)
        if (
            qty % book.qty_step  # exact, as round_qty's divmod: off the step grid
            or qty < book.min_qty
            or (max_qty is not None and qty > max_qty)
        ):
            _check_qty(book, qty)  # raises, naming the limit
        if price is not None:
            _on_tick(book, "price", price)
        if trigger is not None:
            _on_tick(book, "trigger_price", trigger)
        if take_profit is not None:
            _on_tick(book, "take_profit", take_profit)
        if stop_loss is not None:
            _on_tick(book, "stop_loss", stop_loss)
        market = order_type is _MARKET
        if market and tif is _POST_ONLY:
            raise OrderRejected(P, "time_in_force", tif, "a market order can't be PostOnly")
        last = book.last_dec
        if last is None:  # book.last_price(), spelled out, or 110001 before any price
            # to_decimal: remembered, so a bar's open mostly meets the close converted already;
            # imported from the compiled domain.decimals and called by name, a native C call
            # (through the interpreted domain.bars' re-export, or a Final alias, it was generic)
            last = book.last_dec = to_decimal(book.last) if book.last else self._mark(book)
        ref = price if order_type is _LIMIT else trigger or last
        assert ref is not None
        if not reduce_only and qty * ref < book.min_notional:
            raise OrderRejected(
                RejectCode.MIN_NOTIONAL,
                "qty",
                qty,
                f"order value {qty * ref} is below min_notional {inst.min_notional}",
            )
        conditional = trigger is not None  # req.is_conditional
        direction = (
            self._direction(req, trigger_direction, last) if conditional else _NO_DIRECTION
        )
        pos = acct.positions.get(symbol)
        held = pos.qty if pos is not None else ZERO
        increases = held == ZERO or (held > ZERO) == (side is _BUY)
        if reduce_only and not conditional and increases:
            raise OrderRejected(
                RejectCode.REDUCE_ONLY_INCREASE,
                "reduce_only",
                True,
                f"would increase the {symbol} position (held {held})",
            )
        if take_profit or stop_loss:
            _check_tp_sl(side, ref, take_profit, stop_loss)
        im = ZERO
        if not reduce_only and not conditional:
            opening = qty if increases else max(qty - abs(held), ZERO)  # _opening_qty
            if opening:
                im = self._require_margin(acct, symbol, qty, opening, ref)
        resolver = self._bot_resolver
        bot = resolver(acct.name, link) if resolver else bot_id
        self._seq += 1  # self._next_seq(), spelled out
        ids = self._ids  # self._new_id(), the call spared while the batch lasts
        oid = ids.pop() if ids else self._new_id()
        order = SimOrder(
            self._seq, oid, acct.name, symbol, side, order_type, qty, price, tif, reduce_only,
            link, bot, trigger, direction, take_profit, stop_loss, ts_ms, last,
            _STOP if conditional else _NO_STOP, _BY_USER, close_on_trigger,
        )  # fmt: skip
        keep = self._keep_history
        if keep:
            acct.orders[oid] = order
        if link:
            acct.link_ids[link] = oid  # kept: a link id is used once
        out: list[SimEvent] = []
        try:
            if conditional:
                self._rest(order, OrderStatus.UNTRIGGERED, ts_ms, out)
            elif market and self._no_slippage:
                self._fill_order(order, last, False, ts_ms, out)  # what _work does with it
            else:
                self._work(order, book, last, im, ts_ms, out)
        except InvalidField:
            # a fill the venue cannot make (its time, price, size or label refused), refused
            # before it changed the position, wallet or order: the order is taken back too, so
            # the refused command leaves the venue as it was (the link id free, the same ids)
            if link:
                del acct.link_ids[link]
            acct.orders.pop(oid, None)
            self._ids.append(oid)
            self._seq -= 1
            raise
        ended = order.status in TERMINAL
        if not (keep or ended):  # without history, only the open orders are kept
            acct.orders[oid] = order
        # the order's snapshot after the command: the last event's, when that event is this
        # order's status update (nothing changes the order after it), else a fresh one, made
        # when first asked for if the order has ended (nothing can change it either)
        last_event = out[-1] if out else None
        if type(last_event) is OrderUpdated and last_event.order.order_id == oid:
            return last_event.order, order, out
        if ended:
            return None, order, out
        return _latest_snapshot(order, out), order, out

    def _direction(
        self, req: SimOrderRequest | OrderRequest, d: TriggerDirection, last: Decimal
    ) -> TriggerDirection:
        trigger = req.trigger_price
        if trigger is None:
            return TriggerDirection.NONE
        if d is TriggerDirection.NONE:
            if trigger == last:
                return TriggerDirection.RISING if req.side is Side.BUY else TriggerDirection.FALLING
            return TriggerDirection.RISING if trigger > last else TriggerDirection.FALLING
        if d is TriggerDirection.RISING and trigger <= last:
            raise OrderRejected(
                RejectCode.TRIGGER_RISING_BELOW,
                "trigger_price",
                trigger,
                f"expect Rising, but trigger_price <= current {last}",
            )
        if d is TriggerDirection.FALLING and trigger >= last:
            raise OrderRejected(
                RejectCode.TRIGGER_FALLING_ABOVE,
                "trigger_price",
                trigger,
                f"expect Falling, but trigger_price >= current {last}",
            )
        return d

    def _work(
        self,
        order: SimOrder,
        book: SymbolBook,
        last: Decimal,
        im: Decimal,
        ts_ms: int,
        out: list[SimEvent],
    ) -> None:
        """A live (non-conditional) order meets the market at ``last``: fill, rest or cancel."""
        if order.order_type is OrderType.MARKET:
            price = (
                last
                if self._no_slippage
                else slipped(last, order.side, self.config.slippage, book.instrument.tick_size)
            )
            self._fill_order(order, price, False, ts_ms, out)
            return
        assert order.price is not None
        crosses = order.price >= last if order.side is Side.BUY else order.price <= last
        if crosses and order.time_in_force is TimeInForce.POST_ONLY:
            self._set_status(order, OrderStatus.CANCELLED, ts_ms, out, POST_ONLY_WOULD_TAKE)
        elif crosses:
            self._fill_order(order, last, False, ts_ms, out)
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._set_status(order, OrderStatus.CANCELLED, ts_ms, out, "EC_NoImmediateQtyToFill")
        else:
            order.im = im
            self._rest(order, OrderStatus.NEW, ts_ms, out)

    def _amend(self, acct: SimAccount, req: AmendRequest, ts_ms: int) -> Outcome:
        order = self._find_open(acct, req.symbol, req.order_id, req.order_link_id)
        book = self._book(order.symbol)
        changes = [req.qty, req.price, req.trigger_price, req.take_profit, req.stop_loss]
        if all(v is None for v in changes):
            raise OrderRejected(P, "amend", req.order_id or req.order_link_id, "nothing to amend")
        if req.price is not None and order.order_type is OrderType.MARKET:
            raise OrderRejected(P, "price", req.price, "a market order has no price to amend")
        if req.trigger_price is not None and not order.untriggered:
            raise OrderRejected(P, "trigger_price", req.trigger_price, "order is not conditional")
        qty = order.qty if req.qty is None else req.qty
        _check_qty(book, qty)
        if qty <= order.filled_qty:
            raise OrderRejected(P, "qty", qty, f"must exceed the filled {order.filled_qty}")
        for name in ("price", "trigger_price", "take_profit", "stop_loss"):
            _on_tick(book, name, getattr(req, name))
        last = self._mark(book)
        price = order.price if req.price is None else req.price
        trigger = order.trigger_price if req.trigger_price is None else req.trigger_price
        if order.untriggered and trigger is not None:
            rising = order.trigger_direction is TriggerDirection.RISING
            if (rising and trigger <= last) or (not rising and trigger >= last):
                code = (
                    RejectCode.TRIGGER_RISING_BELOW if rising else RejectCode.TRIGGER_FALLING_ABOVE
                )
                raise OrderRejected(code, "trigger_price", trigger, f"already crossed at {last}")
        tp = order.tp if req.take_profit is None else req.take_profit or None
        sl = order.sl if req.stop_loss is None else req.stop_loss or None
        ref = price if price is not None else trigger or last
        _check_tp_sl(order.side, ref, tp, sl)
        im = ZERO
        if not order.reduce_only and not order.untriggered:
            order.im, saved = ZERO, order.im
            try:
                rest = qty - order.filled_qty
                opening = self._opening_qty(acct, order.symbol, order.side, rest)
                if opening:
                    im = self._require_margin(acct, order.symbol, rest, opening, ref)
            finally:
                order.im = saved
        was = (order.qty, order.price, order.trigger_price, order.tp, order.sl, order.updated_ms)
        order.qty, order.price, order.trigger_price, order.tp, order.sl = (
            qty,
            price,
            trigger,
            tp,
            sl,
        )
        order.updated_ms = ts_ms
        out: list[SimEvent] = []
        book.bounds_dirty = True
        try:
            if order.untriggered:
                self._rest(order, OrderStatus.UNTRIGGERED, ts_ms, out)
            else:
                self._work(order, book, last, im, ts_ms, out)
        except InvalidField:
            # a limit moved across whose fill is refused (before it changed anything): the
            # amend is refused whole, the order left as it was
            order.qty, order.price, order.trigger_price, order.tp, order.sl, order.updated_ms = was
            raise
        return Outcome(order.snapshot(), tuple(out))

    def _cancel(self, acct: SimAccount, req: CancelRequest, ts_ms: int) -> Outcome:
        order = self._find_open(acct, req.symbol, req.order_id, req.order_link_id)
        out: list[SimEvent] = []
        self._cancel_one(order, ts_ms, out)
        return Outcome(order.snapshot(), tuple(out))

    def _cancel_one(self, order: SimOrder, ts_ms: int, out: list[SimEvent]) -> None:
        status = OrderStatus.DEACTIVATED if order.untriggered else OrderStatus.CANCELLED
        self._set_status(order, status, ts_ms, out, "EC_PerCancelRequest")

    def _cancel_all(self, acct: SimAccount, ts_ms: int, symbol: str | None) -> Outcome:
        if symbol is not None:
            self._book(symbol)
        out: list[SimEvent] = []
        for order in sorted(acct.open.values(), key=lambda o: o.seq):
            if symbol is None or order.symbol == symbol:
                self._cancel_one(order, ts_ms, out)
        return Outcome(None, tuple(out))

    def _trading_stop(self, acct: SimAccount, req: TradingStopRequest, ts_ms: int) -> Outcome:
        book = self._book(req.symbol)
        pos = acct.positions.get(req.symbol)
        if pos is None or not pos.qty:
            raise OrderRejected(P, "symbol", req.symbol, "can not set tp/sl/ts for zero position")
        for name in ("take_profit", "stop_loss", "trailing_stop", "active_price"):
            value = getattr(req, name)
            if value:
                _on_tick(book, name, value)
        last = self._mark(book)
        side = Side.BUY if pos.qty > 0 else Side.SELL
        _check_tp_sl(side, last, req.take_profit, req.stop_loss)
        if req.take_profit is not None:
            pos.tp = req.take_profit
        if req.stop_loss is not None:
            pos.sl = req.stop_loss
        if req.trailing_stop is not None:
            pos.trail = req.trailing_stop
            pos.trail_activation = req.active_price or ZERO
            pos.trail_active = False
            pos.trail_extreme = ZERO
            self._track_trail(pos, last)
        elif req.active_price is not None:
            pos.trail_activation = req.active_price
        pos.updated_ms = ts_ms
        book.bounds_dirty = True
        out: list[SimEvent] = []
        if self._emit_snapshots:
            out.append(self._position_report(acct, req.symbol))
        return Outcome(None, tuple(out))


def _latest_snapshot(order: SimOrder, out: list[SimEvent]) -> Order:
    """The order's snapshot after the command: the last event's, when that event is this order's
    status update (nothing changes the order after it), else a fresh one."""
    if out:
        last = out[-1]
        if isinstance(last, OrderUpdated) and last.order.order_id == order.order_id:
            return last.order
    return order.snapshot()
