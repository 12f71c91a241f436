"""The engine's mutable insides: open orders, positions with their protection, accounts, books.

These are plain slotted classes, mutated in place, because the backtest walks hundreds of
thousands of bars a second; the outside world only ever sees the frozen domain snapshots built by
``snapshot()``/``view()``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from alphadesk.adapters.sim.records import (
    ClosedPnl,
    CreateType,
    Execution,
    OrderView,
    StopOrderType,
)
from alphadesk.adapters.sim.requests import TriggerDirection
from alphadesk.domain import checks
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.epoch import utc_at
from alphadesk.domain.fills import UNKNOWN_BOT
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.orders import Order
from alphadesk.domain.slots import slot_maker

# Final: on the compiled build a Final module constant is a C static, not a dict lookup per read
ZERO: Final = Decimal(0)
NEVER: Final = (1 << 62) - 1
"""No settlement due: the largest int mypyc holds unboxed (a short tagged int), so comparing with
it is a C comparison (``1 << 62``, as it was, took the boxed slow path, ~300 instructions each).
Every comparison with it answers as with ``1 << 62`` unless the other side is exactly
``2**62 - 1`` ms (146 million years on): no epoch ms the engine can stamp (checks.from_epoch_ms
stops at 253,402,300,799,999) or schedule (a settlement follows one it stamped) comes near."""
INF: Final = float("inf")
_CREATED: Final = OrderStatus.CREATED  # bound once: an enum member read costs a lookup hook





def utc_ms(field: str, ms: int) -> datetime:
    """``checks.from_epoch_ms``, by ``utc_at`` for an int >= 0 (the error names ``field``).
    ``utc_at`` is called by its own name here and in ``core``: a native C call on the compiled
    build, where a call through a Final alias of it went through its Python wrapper."""
    if type(ms) is int and ms >= 0:
        return utc_at(ms)
    return checks.from_epoch_ms(field, ms)


_make_order = slot_maker(Order)


class SimOrder:
    __slots__ = (
        "account",
        "bot_id",
        "close_on_trigger",
        "create_type",
        "created_ms",
        "cum_fee",
        "cum_value",
        "filled_qty",
        "im",
        "last_price_on_created",
        "order_id",
        "order_link_id",
        "order_type",
        "price",
        "qty",
        "reduce_only",
        "reject_reason",
        "seq",
        "side",
        "sl",
        "status",
        "stop_order_type",
        "symbol",
        "time_in_force",
        "tp",
        "trigger_direction",
        "trigger_price",
        "updated_ms",
    )

    def __init__(  # positional too: _place makes one per order, and keywords cost more
        self,
        seq: int,
        order_id: str,
        account: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        price: Decimal | None,
        time_in_force: TimeInForce,
        reduce_only: bool,
        order_link_id: str,
        bot_id: str,
        trigger_price: Decimal | None,
        trigger_direction: TriggerDirection,
        tp: Decimal | None,
        sl: Decimal | None,
        ts_ms: int,
        last_price: Decimal | None,
        stop_order_type: StopOrderType,
        create_type: CreateType,
        close_on_trigger: bool = False,
    ) -> None:
        self.seq = seq
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.qty = qty
        self.price = price
        self.time_in_force = time_in_force
        self.reduce_only = reduce_only
        self.order_link_id = order_link_id
        self.bot_id = bot_id
        self.trigger_price = trigger_price
        self.trigger_direction = trigger_direction
        self.tp = tp
        self.sl = sl
        self.created_ms = ts_ms
        self.updated_ms = ts_ms
        self.last_price_on_created = last_price
        self.stop_order_type = stop_order_type
        self.create_type = create_type
        self.close_on_trigger = close_on_trigger
        self.status = _CREATED
        self.filled_qty = ZERO
        self.cum_value = ZERO
        self.cum_fee = ZERO
        self.im = ZERO
        self.reject_reason = ""

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal and self.status is not OrderStatus.CREATED

    @property
    def untriggered(self) -> bool:
        return self.status is OrderStatus.UNTRIGGERED

    def snapshot(self) -> Order:
        """The domain order as it stands. Its fields were checked when the request was (the
        quantities and prices by the request, the times by the engine's clock, the fills by the
        engine itself), so the slots are written directly, as ``Order.trusted`` would after its
        checks passed: this runs on every status change."""
        filled = self.filled_qty
        created_ms = self.created_ms
        created = utc_at(created_ms) if type(created_ms) is int and created_ms >= 0 else None
        if created is None or not filled <= self.qty:
            return self._checked_snapshot()
        updated_ms = self.updated_ms
        # an order that ends in the command that placed it has one time for both
        if updated_ms == created_ms and type(updated_ms) is int:
            updated = created
        elif type(updated_ms) is int and updated_ms >= 0:
            updated = utc_at(updated_ms)
        else:
            return self._checked_snapshot()
        return _make_order(
            self.order_id, self.order_link_id, self.bot_id, self.symbol, self.side,
            self.order_type, self.qty, self.status, created, updated, self.price,
            self.trigger_price, self.time_in_force, self.reduce_only, filled,
            self.cum_value / filled if filled else None, self.reject_reason,
        )  # fmt: skip

    def _checked_snapshot(self) -> Order:
        avg = self.cum_value / self.filled_qty if self.filled_qty else None
        created = utc_ms("order.created_ms", self.created_ms)
        same = self.updated_ms == self.created_ms and type(self.updated_ms) is int
        return Order.trusted(
            order_id=self.order_id,
            order_link_id=self.order_link_id,
            bot_id=self.bot_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            qty=self.qty,
            status=self.status,
            created_at=created,
            updated_at=created if same else utc_ms("order.updated_ms", self.updated_ms),
            price=self.price,
            trigger_price=self.trigger_price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            filled_qty=self.filled_qty,
            avg_fill_price=avg,
            reject_reason=self.reject_reason,
        )

    def view(self) -> OrderView:
        return OrderView(
            account=self.account,
            order=self.snapshot(),
            stop_order_type=self.stop_order_type,
            create_type=self.create_type,
            trigger_direction=int(self.trigger_direction),
            take_profit=self.tp,
            stop_loss=self.sl,
            cum_exec_value=self.cum_value,
            cum_exec_fee=self.cum_fee,
            last_price_on_created=self.last_price_on_created,
            close_on_trigger=self.close_on_trigger,
        )


class SimPosition:
    """One-way position with a cost basis, the same arithmetic as ``domain.positions.Position``.

    ``open_fee`` holds the opening fees still attributable to the open quantity, so a close can
    report Bybit's ``openFee`` for the share it closes.
    """

    __slots__ = (
        "account",
        "bot_id",
        "cost",
        "fees",
        "funded_ms",
        "funding",
        "next_funding_ms",
        "open_fee",
        "qty",
        "realized",
        "sl",
        "symbol",
        "tp",
        "trail",
        "trail_activation",
        "trail_active",
        "trail_extreme",
        "updated_ms",
    )

    def __init__(self, account: str, symbol: str) -> None:
        self.account = account
        self.symbol = symbol
        self.bot_id = UNKNOWN_BOT
        self.qty = ZERO
        self.cost = ZERO
        self.open_fee = ZERO
        self.realized = ZERO  # gross, before fees and funding
        self.fees = ZERO
        self.funding = ZERO
        self.tp = ZERO
        self.sl = ZERO
        self.trail = ZERO
        self.trail_activation = ZERO
        self.trail_active = False
        self.trail_extreme = ZERO
        self.next_funding_ms = NEVER
        self.funded_ms = 0
        """When it last settled funding (or opened): the next settlement is the first after."""
        self.updated_ms = 0

    @property
    def protected(self) -> bool:
        return bool(self.tp or self.sl or self.trail)

    @property
    def avg_price(self) -> Decimal:
        return self.cost / abs(self.qty) if self.qty else ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        if self.qty > 0:
            return mark * self.qty - self.cost
        if self.qty < 0:
            return self.cost + mark * self.qty
        return ZERO

    def clear_protection(self) -> None:
        self.tp = self.sl = self.trail = self.trail_activation = self.trail_extreme = ZERO
        self.trail_active = False


class SimAccount:
    __slots__ = (
        "closed",
        "exec_index",
        "executions",
        "leverage",
        "link_ids",
        "name",
        "open",
        "orders",
        "positions",
        "wallet",
    )

    def __init__(self, name: str, balance: Decimal) -> None:
        self.name = name
        self.wallet = balance
        self.leverage: dict[str, Decimal] = {}
        self.positions: dict[str, SimPosition] = {}
        self.orders: dict[str, SimOrder] = {}  # every order ever placed, by id
        self.open: dict[str, SimOrder] = {}
        self.link_ids: dict[str, str] = {}
        self.executions: list[Execution] = []
        self.exec_index: dict[str, int] = {}
        self.closed: list[ClosedPnl] = []


class SymbolBook:
    """Everything resting on one symbol, and cheap float bounds for the per-bar early return.

    ``fall_bound`` is the highest price at which something triggers on a fall, ``rise_bound`` the
    lowest at which something triggers on a rise; a bar with ``low > fall_bound`` and
    ``high < rise_bound`` cannot fill anything, so only the last price is recorded. A trailing
    stop counts as a trigger at its activation price until armed, then at its stop level and at
    its running extreme (a new extreme moves the stop), so the bounds go stale after every walk.
    """

    __slots__ = (
        "bounds_dirty",
        "fall_bound",
        "funding_rate",
        "funding_rates",
        "instrument",
        "last",
        "last_dec",
        "last_ms",
        "max_qty",
        "min_notional",
        "min_qty",
        "next_funding_ms",
        "orders",
        "positions",
        "qty_step",
        "rise_bound",
        "tick_size",
        "trailing",
    )

    def __init__(self, instrument: Instrument, funding_rate: Decimal) -> None:
        self.instrument: Final = instrument
        # The instrument's limits, read per order and per fill: copied here (the instrument is
        # frozen and never replaced), where the compiled build reads them as native attributes
        # instead of generic lookups on the interpreted Instrument.
        self.qty_step: Final = instrument.qty_step
        self.min_qty: Final = instrument.min_qty
        self.max_qty: Final = instrument.max_qty
        self.min_notional: Final = instrument.min_notional
        self.tick_size: Final = instrument.tick_size
        self.funding_rate = funding_rate
        self.funding_rates: dict[int, Decimal] | None = None
        """Recorded rates by settlement time; ``funding_rate`` pays the times it lacks."""
        self.orders: list[SimOrder] = []
        self.positions: dict[str, SimPosition] = {}  # open (non-flat) positions by account
        self.last: float = 0.0
        self.last_dec: Decimal | None = None
        self.last_ms = 0
        self.next_funding_ms = NEVER
        self.fall_bound = -INF
        self.rise_bound = INF
        self.trailing = False
        self.bounds_dirty = False

    @property
    def idle(self) -> bool:
        return not self.orders and not self.positions

    def last_price(self) -> Decimal | None:
        if self.last_dec is None and self.last:
            self.last_dec = Decimal(repr(self.last))
        return self.last_dec

    def recompute_bounds(self) -> None:
        fall, rise, trailing = -INF, INF, False
        for o in self.orders:
            level = o.trigger_price if o.untriggered else o.price
            if level is None:
                continue
            f = float(level)
            if o.untriggered:
                falling = o.trigger_direction is TriggerDirection.FALLING
            else:
                falling = o.side is Side.BUY
            if falling:
                fall = max(fall, f)
            else:
                rise = min(rise, f)
        for p in self.positions.values():
            long = p.qty > ZERO  # (against an int, the int is made a Decimal first)
            if p.trail:
                # Only a trailing stop that arms on the very next price must walk every bar.
                # Waiting for its activation price is a trigger like any other; once armed, a bar
                # inside (stop level, running extreme) neither fires it nor moves the extreme.
                if p.trail_active:
                    stop = float(p.trail_extreme - p.trail if long else p.trail_extreme + p.trail)
                    extreme = float(p.trail_extreme)
                    if long:
                        fall, rise = max(fall, stop), min(rise, extreme)
                    else:
                        fall, rise = max(fall, extreme), min(rise, stop)
                elif not p.trail_activation:
                    trailing = True
                elif long:
                    rise = min(rise, float(p.trail_activation))
                else:
                    fall = max(fall, float(p.trail_activation))
            # a long's take-profit is above it and its stop below; a short's the other way round
            # (spelled out: a loop over two (level, falls) pairs made three tuples per position)
            tp, sl = p.tp, p.sl
            if tp:
                if long:
                    rise = min(rise, float(tp))
                else:
                    fall = max(fall, float(tp))
            if sl:
                if long:
                    fall = max(fall, float(sl))
                else:
                    rise = min(rise, float(sl))
        self.fall_bound, self.rise_bound, self.trailing = fall, rise, trailing
        self.bounds_dirty = False
