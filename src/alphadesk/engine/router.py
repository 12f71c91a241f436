"""The router: intents -> risk gate -> venue, and the book of orders in flight.

An order is *in flight* from the moment it is handed to the venue until the venue says how it
ended (filled, rejected, cancelled). If handing it over fails in a way that does not say whether
the venue got it (a timeout, a dropped connection), the order stays in flight, marked unknown,
until a report names it: re-sending could open the position twice. While an entry is in flight on
a symbol, another entry there is refused; while an exit is, another exit is.

Client order ids come from :mod:`alphadesk.engine.links`: :mod:`alphadesk.domain.order_link`
encodings with a deterministic nonce (decision time and a per-engine counter), so a backtest run
twice produces the same ids.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

from alphadesk.domain.bars import to_decimal
from alphadesk.domain.checks import plain_non_negative
from alphadesk.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from alphadesk.domain.epoch import epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.intents import (
    CancelIntent,
    EnterIntent,
    ExitIntent,
    Intent,
    SetStopIntent,
    SetTrailingIntent,
    SizeHint,
    TakeProfitLevel,
    TrailingSpec,
)
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import (
    CancelRequest,
    OrderRequest,
    TradingStopRequest,
    make_order_request,
    make_trading_stop_request,
)
from alphadesk.engine.inflight import InFlight
from alphadesk.engine.links import LinkIds
from alphadesk.engine.portfolio import Portfolio
from alphadesk.engine.ports import OrderGateway
from alphadesk.engine.risk import Exposure, Refusal, RiskGate, round_price, round_qty

ZERO: Final = Decimal(0)
_NO_EXPOSURE: Final = Exposure(open_positions=0, total_notional=ZERO)
# Enum members read per order, bound once: on Python 3.11 ``Purpose.ENTRY`` goes through
# EnumType.__getattr__'s lookup hook, about ten times the cost of reading a module global.
_ENTRY: Final = Purpose.ENTRY
_MANUAL: Final = Purpose.MANUAL
_MARKET: Final = OrderType.MARKET
_GTC: Final = TimeInForce.GTC
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL


class Router:
    def __init__(
        self,
        bot_id: str,
        risk: RiskGate,
        portfolio: Portfolio,
        gateway: OrderGateway,
        on_refusal: Callable[[Refusal], None],
    ) -> None:
        self.bot_id = bot_id
        self.risk = risk
        self.portfolio = portfolio
        self.gateway = gateway
        self._on_refusal = on_refusal
        self.inflight: dict[str, InFlight] = {}
        self.reasons: dict[str, str] = {}
        """order_link_id -> the intent's reason, to label fills (bounded by orders placed)."""
        self._links = LinkIds(bot_id)

    # -- ids ------------------------------------------------------------------------------------

    def new_link(self, purpose: Purpose, now_ms: int, level: int | None = None) -> str:
        """A new client order id of this bot (:class:`~alphadesk.engine.links.LinkIds`)."""
        return self._links.new(purpose, now_ms, level)

    # -- queries --------------------------------------------------------------------------------

    def in_flight(self, symbol: str, purpose: Purpose | None = None) -> list[InFlight]:
        return [
            f
            for f in self.inflight.values()
            if f.symbol == symbol and (purpose is None or f.purpose is purpose)
        ]

    def _exiting_fully(self, symbol: str) -> bool:
        position = self.portfolio.positions.get(symbol)
        if position is None:
            return False
        leaving = sum(
            (f.request.qty - f.filled for f in self.in_flight(symbol) if f.request.reduce_only),
            ZERO,
        )
        return leaving >= position.size

    def exposure(self) -> Exposure:
        """Open positions (not being fully closed) plus entries in flight, and their notional."""
        if not self.inflight and not self.portfolio.positions:
            return _NO_EXPOSURE  # what the sums below give
        held = [s for s in self.portfolio.positions if not self._exiting_fully(s)]
        total = sum((self.portfolio.notional(s) for s in held), ZERO)
        symbols = set(held)
        for f in self.inflight.values():
            if f.purpose is Purpose.ENTRY:
                total += (f.request.qty - f.filled) * f.ref_price
                symbols.add(f.symbol)
        return Exposure(open_positions=len(symbols), total_notional=total)

    # -- intents --------------------------------------------------------------------------------

    def route(self, intent: Intent, *, explicit: bool = False) -> OrderRequest | Refusal | None:
        """Decide and send one intent. Returns the order request, a refusal, or None (no order)."""
        if isinstance(intent, EnterIntent):
            return self.enter(intent)
        if isinstance(intent, ExitIntent):
            return self.exit(intent, explicit)
        if isinstance(intent, SetStopIntent):
            return self._set_stop(intent)
        if isinstance(intent, SetTrailingIntent):
            return self._set_trailing(intent)
        if isinstance(intent, CancelIntent):
            self._cancel(intent)
            return None
        raise InvalidField("intent", intent, "unknown intent type")

    def _refuse(self, refusal: Refusal) -> Refusal:
        self._on_refusal(refusal)
        return refusal

    def enter(self, intent: EnterIntent) -> OrderRequest | Refusal:
        """:meth:`route` of an entry."""
        return self.enter_fields(
            intent, intent.symbol, intent.side, intent.size, intent.time_ms, intent.reason,
            intent.ref_price, intent.stop_loss, intent.take_profits, intent.trailing,
        )  # fmt: skip

    def enter_fields(
        self,
        intent: EnterIntent,
        symbol: str,
        side: Side,
        size: SizeHint,
        time_ms: int,
        reason: str,
        ref_price: Decimal,
        stop_loss: Decimal | None,
        take_profits: tuple[TakeProfitLevel, ...],
        trailing: TrailingSpec | None,
    ) -> OrderRequest | Refusal:
        """:meth:`enter` given ``intent``'s fields, for a caller that built it from them (the
        engine's context): on the compiled build each read of the interpreted intent is a
        generic attribute lookup, and the risk gate would read four of them again."""
        if self.inflight and self.in_flight(symbol, _ENTRY):
            return self._refuse(Refusal(time_ms, symbol, "enter", "entry already in flight"))
        position = self.portfolio.positions.get(symbol)
        opposite = position is not None and position.side is not side
        if opposite and not self._exiting_fully(symbol):
            return self._refuse(Refusal(time_ms, symbol, "enter", "opposite position open"))
        sized = self.risk.size_entry_at(self.exposure(), symbol, time_ms, size, ref_price)
        if isinstance(sized, Refusal):
            return self._refuse(sized)
        stop = take = None
        if stop_loss is not None:
            stop = self.risk.stop_price(symbol, side, stop_loss)
        follow_up: EnterIntent | None = None
        if len(take_profits) == 1 and take_profits[0].fraction == 1:
            take = self.risk.take_profit_price(symbol, side, take_profits[0].price)
        elif take_profits:
            follow_up = intent
        if trailing is not None:
            follow_up = intent
        # bot_id (the engine's), symbol and side (the checked intent's), qty (sized by the risk
        # gate: >= min_qty > 0), link (new_link's checked encoding), stop and take (on the tick
        # grid, > 0): every field is checked already, so the slots are written directly
        link = self.new_link(_ENTRY, time_ms)
        request = make_order_request(
            self.bot_id, symbol, side, sized, link, _MARKET, None, _GTC, False, None, take, stop,
        )  # fmt: skip
        self.risk.record_entry(symbol, time_ms)
        self._send(request, _ENTRY, reason, time_ms, ref_price, follow_up, link, sized)
        return request

    def exit(self, intent: ExitIntent, explicit: bool = False) -> OrderRequest | Refusal:
        """:meth:`route` of an exit (``explicit``: an owner's, allowed when HALTED)."""
        return self.exit_fields(
            intent.symbol, intent.time_ms, intent.reason, intent.fraction, explicit
        )

    def exit_fields(
        self, symbol: str, time_ms: int, reason: str, fraction: Decimal, explicit: bool = False
    ) -> OrderRequest | Refusal:
        """:meth:`exit` given the exit intent's fields, for a caller that built it from them
        (the engine's context): each read of the interpreted intent is a generic lookup."""
        if self.inflight and any(f.request.reduce_only for f in self.in_flight(symbol)):
            return self._refuse(Refusal(time_ms, symbol, "exit", "exit already in flight"))
        sized = self.risk.size_exit_at(symbol, time_ms, fraction, explicit)
        if isinstance(sized, Refusal):
            return self._refuse(sized)
        position = self.portfolio.positions[symbol]  # held: size_exit refuses a flat one
        purpose = _MANUAL
        last = self.portfolio.last_price(symbol)
        link = self.new_link(purpose, time_ms)
        # every field checked already, as in enter (qty: the held size or a share of it > 0);
        # the side closes the held one (position.side.opposite, without the two properties)
        request = make_order_request(
            self.bot_id, symbol, _SELL if position.qty > ZERO else _BUY, sized, link,
            _MARKET, None, _GTC, True, None, None, None,
        )  # fmt: skip
        # (to_decimal: Decimal(repr(last)), remembered: the order's fill at the next open, which
        # mostly equals this close, is converted again there)
        ref = to_decimal(last) if last else position.avg_entry_price
        self._send(request, purpose, reason, time_ms, ref, None, link, sized)
        return request

    def _set_stop(self, intent: SetStopIntent) -> Refusal | None:
        refused = self.risk.protection_allowed(intent.time_ms, intent.symbol, "set_stop")
        if refused is not None:
            return self._refuse(refused)
        side = self.portfolio.positions[intent.symbol].side
        assert side is not None
        price = self.risk.stop_price(intent.symbol, side, intent.stop_loss)
        request = TradingStopRequest(self.bot_id, intent.symbol, stop_loss=price)
        return self._trading_stop(request, intent.time_ms, intent.symbol, "set_stop")

    def _set_trailing(self, intent: SetTrailingIntent) -> Refusal | None:
        refused = self.risk.protection_allowed(intent.time_ms, intent.symbol, "set_trailing")
        if refused is not None:
            return self._refuse(refused)
        request = self._trailing_request(
            intent.symbol, intent.trailing.distance, intent.trailing.activation_price
        )
        return self._trading_stop(request, intent.time_ms, intent.symbol, "set_trailing")

    def _trailing_request(
        self, symbol: str, distance: Decimal, activation: Decimal | None
    ) -> TradingStopRequest:
        instrument = self.risk.instrument(symbol)
        tick = instrument.tick_size
        dist = max(tick, round_price(instrument, distance)) if distance >= tick else tick
        active = round_price(instrument, activation) if activation is not None else None
        if plain_non_negative(dist) and (active is None or plain_non_negative(active)):
            # the only values the request checks (each a finite Decimal >= 0), so the slots are
            # written directly: the same object as the constructor's, without its interpreted
            # __init__ and __post_init__ (once per entry with a trailing stop)
            return make_trading_stop_request(self.bot_id, symbol, None, None, dist, active)
        return TradingStopRequest(self.bot_id, symbol, trailing_stop=dist, active_price=active)

    def _trading_stop(
        self, request: TradingStopRequest, time_ms: int, symbol: str, kind: str
    ) -> Refusal | None:
        try:
            self.gateway.set_trading_stop(request)
        except InvalidField as exc:
            return self._refuse(Refusal(time_ms, symbol, kind, f"venue refused: {exc}"))
        return None

    def _cancel(self, intent: CancelIntent) -> None:
        for flight in self.in_flight(intent.symbol):
            if flight.request.order_type is OrderType.LIMIT and not flight.request.reduce_only:
                self.gateway.cancel(
                    CancelRequest(
                        self.bot_id, intent.symbol, order_link_id=flight.request.order_link_id
                    )
                )

    def _send(
        self,
        request: OrderRequest,
        purpose: Purpose,
        reason: str,
        now_ms: int,
        ref_price: Decimal,
        follow_up: EnterIntent | None,
        link: str,
        qty: Decimal,
    ) -> None:
        """``link`` and ``qty``: the request's, as its maker has them (no generic reads)."""
        flight = InFlight(request, purpose, reason, now_ms, ref_price, follow_up, ZERO, False, qty)
        self.inflight[link] = flight
        self.reasons[link] = reason
        try:
            self.gateway.submit(request)
        except InvalidField as exc:  # a definite refusal: the venue did not take it
            del self.inflight[link]
            self._refuse(Refusal(now_ms, request.symbol, purpose.value, f"venue refused: {exc}"))
        except Exception:
            flight.unknown = True

    # -- reports --------------------------------------------------------------------------------

    def on_fill(self, fill: Fill, time_ms: int | None = None) -> None:
        """``time_ms``: the fill's time in epoch ms, when the caller has it already."""
        link = fill.order_link_id
        flight = self.inflight.get(link)
        if flight is not None and self._filled(link, flight, fill.qty):
            now_ms = epoch_ms(fill.exec_time) if time_ms is None else time_ms
            self._finish(link, flight, now_ms)

    def on_fill_at(self, fill: Fill, link: str, time_ms: int) -> None:
        """:meth:`on_fill` for a caller holding the fill's ``order_link_id`` and its time in
        epoch ms already (the engine): an ``int`` argument, so the compiled build passes it
        unboxed, where ``int | None`` makes an int object per call."""
        flight = self.inflight.get(link)
        if flight is not None and self._filled(link, flight, fill.qty):
            self._finish(link, flight, time_ms)

    def _filled(self, link: str, flight: InFlight, qty: Decimal) -> bool:
        """Count ``qty`` in; True when the order is complete and has a follow-up to send (one
        without is done here, as :meth:`_finish` would)."""
        flight.filled += qty
        flight.unknown = False
        if flight.filled >= flight.qty:
            if flight.follow_up is None:  # what _finish does then (most orders)
                del self.inflight[link]
                return False
            return True
        return False

    def on_order(self, update: OrderUpdated) -> None:
        order = update.order
        flight = self.inflight.get(order.order_link_id)
        if flight is None:
            return
        flight.unknown = False
        if not order.status.is_terminal:
            return
        if order.status is not OrderStatus.FILLED and order.filled_qty < flight.request.qty:
            reason = order.reject_reason or order.status.value
            self._on_refusal(
                Refusal(flight.sent_ms, flight.symbol, flight.purpose.value, f"venue: {reason}")
            )
        if order.filled_qty >= flight.filled:
            flight.filled = order.filled_qty
        self._finish(order.order_link_id, flight, epoch_ms(update.order.updated_at))

    def reject(self, order_link_id: str, reason: str, time_ms: int) -> None:
        """The venue refused an order after it was handed over (e.g. the backtest's next open)."""
        flight = self.inflight.pop(order_link_id, None)
        if flight is not None:
            self._on_refusal(Refusal(time_ms, flight.symbol, flight.purpose.value, reason))

    def _finish(self, link: str, flight: InFlight, now_ms: int) -> None:
        self.inflight.pop(link, None)
        intent = flight.follow_up
        if intent is None or flight.filled <= 0 or not self.portfolio.holds(intent.symbol):
            return
        symbol = intent.symbol
        position = self.portfolio.positions[symbol]
        instrument = self.risk.instrument(symbol)
        if len(intent.take_profits) > 1 or (
            intent.take_profits and intent.take_profits[0].fraction != 1
        ):
            for level, tp in enumerate(intent.take_profits, start=1):
                qty = round_qty(instrument, flight.filled * tp.fraction)
                if qty < instrument.min_qty:
                    continue
                price = self.risk.take_profit_price(symbol, intent.side, tp.price)
                request = OrderRequest(
                    bot_id=self.bot_id,
                    symbol=symbol,
                    side=intent.side.opposite,
                    qty=min(qty, position.size),
                    order_link_id=self.new_link(Purpose.TAKE_PROFIT, now_ms, level),
                    order_type=OrderType.LIMIT,
                    price=price,
                    reduce_only=True,
                )
                self.reasons[request.order_link_id] = f"take_profit_{level}"
                try:
                    self.gateway.submit(request)
                except InvalidField as exc:
                    self._on_refusal(Refusal(now_ms, symbol, "take_profit", f"venue: {exc}"))
        if intent.trailing is not None:
            request_ts = self._trailing_request(
                symbol, intent.trailing.distance, intent.trailing.activation_price
            )
            self._trading_stop(request_ts, now_ms, symbol, "trailing")
