"""Triggering and filling what rests on a book as the price walks from one point to the next.

A move is either a *jump* (previous price to a bar's open, or to a tick): everything it crosses
fills at the new price; or *continuous* (between the points of a bar's path): each thing fills at
its own level, in the order the price reaches them, and what a fill creates (a position's new
stop-loss) can still trigger later in the same move.
"""

from __future__ import annotations

from decimal import Decimal

from alphadesk.adapters.sim.funding_desk import FundingDesk
from alphadesk.adapters.sim.pricing import slipped
from alphadesk.adapters.sim.records import CreateType, SimEvent, StopOrderType
from alphadesk.adapters.sim.requests import TriggerDirection
from alphadesk.adapters.sim.state import SimAccount, SimOrder, SimPosition, SymbolBook
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce

# Among things hit at the same price, the adverse ones go first.
_PRIORITY = {
    StopOrderType.STOP_LOSS: 0,
    StopOrderType.TRAILING_STOP: 0,
    StopOrderType.STOP: 1,
    StopOrderType.NONE: 2,
    StopOrderType.TAKE_PROFIT: 3,
}
_MAX_STEPS = 10_000

Item = tuple[Decimal, bool, StopOrderType, SimOrder | None]
"""(level, triggers on a fall, kind, the order; None for the position's own protection)."""


class Matcher(FundingDesk):  # one line of bases: mypyc compiles no multiple inheritance
    def _items(self, acct: SimAccount, book: SymbolBook) -> list[Item]:
        items: list[Item] = []
        name = acct.name
        for o in book.orders:
            if o.account != name:
                continue
            if o.status is OrderStatus.UNTRIGGERED:
                assert o.trigger_price is not None
                falling = o.trigger_direction is TriggerDirection.FALLING
                items.append((o.trigger_price, falling, StopOrderType.STOP, o))
            elif o.price is not None:
                items.append((o.price, o.side is Side.BUY, StopOrderType.NONE, o))
        pos = book.positions.get(name)
        if pos is not None and pos.qty:
            long = pos.qty > 0
            if pos.tp:
                items.append((pos.tp, not long, StopOrderType.TAKE_PROFIT, None))
            if pos.sl:
                items.append((pos.sl, long, StopOrderType.STOP_LOSS, None))
            if pos.trail and pos.trail_active:
                level = pos.trail_extreme - pos.trail if long else pos.trail_extreme + pos.trail
                if level > 0:
                    items.append((level, long, StopOrderType.TRAILING_STOP, None))
        return items

    def _move(
        self,
        acct: SimAccount,
        book: SymbolBook,
        cur: Decimal,
        target: Decimal,
        jump: bool,
        ts_ms: int,
        out: list[SimEvent],
    ) -> None:
        """Trigger and fill everything ``acct`` has on ``book`` between ``cur`` and ``target``."""
        low, high = min(cur, target), max(cur, target)
        for _ in range(_MAX_STEPS):
            best: tuple[Decimal, int, int] | None = None
            hit: Item | None = None
            for item in self._items(acct, book):
                level, falling, kind, order = item
                if falling:
                    if low > level:
                        continue
                    dist = max(cur - level, Decimal(0))
                elif high < level:
                    continue
                else:
                    dist = max(level - cur, Decimal(0))
                key = (dist, _PRIORITY[kind], order.seq if order is not None else 0)
                if best is None or key < best:
                    best, hit = key, item
            if hit is None:
                return
            level, falling, kind, order = hit
            if jump:
                at = target
            else:
                at = min(level, cur) if falling else max(level, cur)
                cur = at
                low, high = min(cur, target), max(cur, target)
            self._trigger(acct, book, hit, at, ts_ms, out)
        raise RuntimeError(f"matching did not settle on {book.instrument.symbol} at {ts_ms}")

    def _trigger(
        self,
        acct: SimAccount,
        book: SymbolBook,
        item: Item,
        at: Decimal,
        ts_ms: int,
        out: list[SimEvent],
    ) -> None:
        _level, _falling, kind, order = item
        tick = book.tick_size
        if order is None:
            self._protection_fires(acct, book, kind, at, ts_ms, out)
            return
        if kind is StopOrderType.NONE:  # resting limit touched: maker at its price or better
            assert order.price is not None
            price = min(order.price, at) if order.side is Side.BUY else max(order.price, at)
            self._fill_order(order, price, True, ts_ms, out)
            return
        if order.order_type is OrderType.MARKET:
            if not self._margin_ok(acct, order, at, ts_ms, out):
                return
            self._set_status(order, OrderStatus.TRIGGERED, ts_ms, out)
            price = slipped(at, order.side, self.config.slippage, tick)
            self._fill_order(order, price, False, ts_ms, out)
            return
        # stop-limit: becomes a limit at the trigger; fills now only if it crosses there.
        assert order.price is not None
        crosses = order.price >= at if order.side is Side.BUY else order.price <= at
        if not self._margin_ok(acct, order, order.price, ts_ms, out):
            return
        self._set_status(order, OrderStatus.TRIGGERED, ts_ms, out)
        if crosses:
            self._fill_order(order, at, False, ts_ms, out)
        elif order.time_in_force is TimeInForce.GTC or order.time_in_force is TimeInForce.POST_ONLY:
            self._rest(order, OrderStatus.NEW, ts_ms, out)
        else:
            self._set_status(order, OrderStatus.CANCELLED, ts_ms, out)

    def _margin_ok(
        self, acct: SimAccount, order: SimOrder, price: Decimal, ts_ms: int, out: list[SimEvent]
    ) -> bool:
        if order.reduce_only or order.close_on_trigger:
            return True
        try:
            qty = order.remaining
            opening = self._opening_qty(acct, order.symbol, order.side, qty)
            if opening:
                self._require_margin(acct, order.symbol, qty, opening, price)
        except ValueError:
            self._set_status(order, OrderStatus.DEACTIVATED, ts_ms, out, "EC_InsufficientBalance")
            return False
        return True

    def _protection_fires(
        self,
        acct: SimAccount,
        book: SymbolBook,
        kind: StopOrderType,
        at: Decimal,
        ts_ms: int,
        out: list[SimEvent],
    ) -> None:
        """The position's TP, SL or trailing stop: a reduce-only market order for all of it."""
        pos = book.positions[acct.name]
        side = Side.SELL if pos.qty > 0 else Side.BUY
        level = {
            StopOrderType.TAKE_PROFIT: pos.tp,
            StopOrderType.STOP_LOSS: pos.sl,
        }.get(kind, self._trail_level(pos))
        create = {
            StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
            StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
        }.get(kind, CreateType.BY_TRAILING_STOP)
        order = SimOrder(
            seq=self._next_seq(),
            order_id=self._new_id(),
            account=acct.name,
            symbol=pos.symbol,
            side=side,
            order_type=OrderType.MARKET,
            qty=abs(pos.qty),
            price=None,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
            order_link_id="",
            bot_id=pos.bot_id,
            trigger_price=level,
            trigger_direction=TriggerDirection.RISING
            if (side is Side.BUY)
            else TriggerDirection.FALLING,
            tp=None,
            sl=None,
            ts_ms=ts_ms,
            last_price=at,
            stop_order_type=kind,
            create_type=create,
            close_on_trigger=True,
        )
        if self._keep_history:  # it ends in this call: without history, never kept
            acct.orders[order.order_id] = order
        order.status = OrderStatus.TRIGGERED
        price = (
            at
            if kind is StopOrderType.TAKE_PROFIT
            else slipped(at, side, self.config.slippage, book.tick_size)
        )
        self._fill_order(order, price, False, ts_ms, out)

    @staticmethod
    def _trail_level(pos: SimPosition) -> Decimal:
        return pos.trail_extreme - pos.trail if pos.qty > 0 else pos.trail_extreme + pos.trail

    @staticmethod
    def _track_trail(pos: SimPosition | None, price: Decimal) -> None:
        """Arm the trailing stop at its activation price and follow the favourable extreme."""
        if pos is None or not pos.trail or not pos.qty:
            return
        long = pos.qty > 0
        if not pos.trail_active:
            armed = (
                not pos.trail_activation
                or (long and price >= pos.trail_activation)
                or (not long and price <= pos.trail_activation)
            )
            if armed:
                pos.trail_active = True
                pos.trail_extreme = price
            return
        if (long and price > pos.trail_extreme) or (not long and price < pos.trail_extreme):
            pos.trail_extreme = price

    @staticmethod
    def _trail_rides(
        book: SymbolBook, prev: Decimal, o: Decimal, h: Decimal, lo: Decimal, c: Decimal
    ) -> bool:
        """The walk of a bar whose only resting thing is one position's armed trailing stop,
        when that stop does not fire: the running extreme follows the path and nothing else
        happens. Replays exactly what the full walk's moves would test (the same path, levels
        and comparisons) without building its items; returns False, having changed nothing, the
        moment the stop would be reached, and the full walk then does the bar."""
        (pos,) = book.positions.values()
        if not pos.qty or pos.tp or pos.sl or not pos.trail or not pos.trail_active:
            return False
        trail, extreme = pos.trail, pos.trail_extreme
        if pos.qty > 0:  # falling stop at extreme - trail; path O, L, H, C
            cur = prev
            for point in (o, lo, h, c):
                level = extreme - trail
                if level > 0 and min(cur, point) <= level:
                    return False
                if point > extreme:
                    extreme = point
                cur = point
        else:  # rising stop at extreme + trail; path O, H, L, C
            cur = prev
            for point in (o, h, lo, c):
                if max(cur, point) >= extreme + trail:
                    return False
                if point < extreme:
                    extreme = point
                cur = point
        pos.trail_extreme = extreme
        return True
