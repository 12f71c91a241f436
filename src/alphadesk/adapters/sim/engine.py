"""The matching engine: one simulated Bybit USDT-perpetual venue, shared by paper, backtest and the
Bybit simulator server.

Synchronous and deterministic: ids come from a seeded generator and every time comes from the
caller (epoch ms), never from the wall clock, so the same inputs give byte-identical outputs.
Money, quantities and prices are Decimal; bars arrive as floats and cross into Decimal only when
something can actually fill (the per-bar path with nothing resting is an early return).

Fill model (documented here because tests and strategies depend on it):

* Market orders fill at once, as taker, at the last price moved against us by the configured
  slippage. Limit orders that cross the last price on arrival fill at once, as taker, at the last
  price. Post-only orders that would cross are accepted and then cancelled with
  ``EC_PostOnlyWillTakeLiquidity`` (Bybit's behaviour, not an error).
* A resting limit fills completely (no partial fills by volume) as maker when the price touches
  it: at its own price, or at the bar open / tick price if the market jumped through it.
* Conditional orders (``trigger_price``) and the position's take-profit, stop-loss and trailing
  stop trigger on the last price; they fill as taker at the trigger price (plus slippage), or at
  the bar open / tick price when the market jumped through the trigger (the worse of the two for
  stops; take-profits take the jump's better price, like a limit).
* Inside a bar the price walks a conservative path: O, then the extreme adverse to the account's
  open position first (long: O→L→H→C, short: O→H→L→C), or when flat by the bar's colour
  (C >= O: O→L→H→C, else O→H→L→C). Each account on a symbol walks its own path, since simulated
  accounts do not trade against one another. Moves from the previous price to O, and ticks given
  to :meth:`MatchingEngine.on_price`, are jumps; moves between path points are continuous.
* Funding settles on each symbol's schedule (:mod:`~alphadesk.adapters.sim.funding_desk`: its
  instrument's interval, else its recorded history's spacing, else ``funding_interval_ms``, 8 h:
  00:00, 08:00, 16:00 UTC; inside a recorded history's span at the recorded times) for a
  position opened before it: a ``Funding`` fill with price = mark, qty = size and fee =
  size × mark × rate, positive (paid) for a long when the rate is positive, negative for a short.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final, cast

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.core import BotResolver, FillLabeler
from alphadesk.adapters.sim.plain_request import plain_fields
from alphadesk.adapters.sim.pricing import adverse_high_first
from alphadesk.adapters.sim.protection import Protection
from alphadesk.adapters.sim.queries import Queries
from alphadesk.adapters.sim.records import (
    EMPTY,
    Outcome,
    SimEvent,
)
from alphadesk.adapters.sim.rejects import OrderRejected, RejectCode
from alphadesk.adapters.sim.requests import AmendRequest, SimOrderRequest, TriggerDirection
from alphadesk.adapters.sim.state import INF, NEVER, SimAccount, SimOrder, SymbolBook
from alphadesk.domain import checks
from alphadesk.domain.bars import Bar
from alphadesk.domain.decimals import to_decimal
from alphadesk.domain.enums import OrderType, Side, TimeInForce
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.orders import Order
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest

__all__ = ["BotResolver", "FillLabeler", "MatchingEngine"]

_NO_DIRECTION: Final = TriggerDirection.NONE
"""A domain request's trigger direction (it has none), bound once."""
_NO_EVENTS: Final = EMPTY  # a C static on the compiled build (an import: a dict lookup)
_outcome_later: Final = Outcome.later
"""Bound once (a C static when compiled): ``Outcome.later`` looks the classmethod up and binds
it anew on every call, once per filled order."""


class MatchingEngine(Queries):
    """A simulated venue holding several accounts, each with a USDT wallet and one-way positions.

    Commands raise :class:`~alphadesk.adapters.sim.rejects.OrderRejected` (an ``InvalidField``
    with a Bybit ``retCode`` in ``.code``) for a request Bybit would refuse. Times are epoch ms.
    """

    def __init__(
        self,
        venue: str,
        instruments: Iterable[Instrument] = (),
        *,
        config: SimConfig | None = None,
        seed: int = 0,
        bot_resolver: BotResolver | None = None,
    ) -> None:
        super().__init__(venue, config or SimConfig(), seed, bot_resolver)
        for instrument in instruments:
            self.add_instrument(instrument)

    # -- set-up ---------------------------------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        """Make a symbol tradable; its rules validate every order."""
        if instrument.symbol in self._books:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR, "instrument.symbol", instrument.symbol, "already listed"
            )
        self._books[instrument.symbol] = book = SymbolBook(instrument, self.config.funding_rate)
        self._listed(book)

    def instrument(self, symbol: str) -> Instrument:
        return self._book(symbol).instrument

    def open_account(self, account: str, balance: Decimal) -> None:
        """Create an account with a USDT wallet balance; opening one twice is an error."""
        checks.text("account", account, max_len=64)
        checks.non_negative("balance", balance)
        if account in self._accounts:
            raise OrderRejected(RejectCode.PARAMS_ERROR, "account", account, "already exists")
        self._accounts[account] = SimAccount(account, balance)

    def set_leverage(self, account: str, symbol: str, leverage: Decimal) -> None:
        """Per account and symbol (default ``config.default_leverage``); same value → 110043."""
        acct = self._account(account)
        book = self._book(symbol)
        checks.decimal("leverage", leverage)
        ceiling = min(self.config.max_leverage, book.instrument.max_leverage or Decimal("Infinity"))
        if not 1 <= leverage <= ceiling:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR,
                "leverage",
                leverage,
                f"must be between 1 and {ceiling}",
            )
        if leverage == self._leverage(acct, symbol):
            raise OrderRejected(
                RejectCode.LEVERAGE_NOT_MODIFIED, "leverage", leverage, "leverage not modified"
            )
        acct.leverage[symbol] = leverage

    def leverage(self, account: str, symbol: str) -> Decimal:
        return self._leverage(self._account(account), symbol)

    def label_fills(self, labeler: FillLabeler | None) -> None:
        """Label each trade the venue has no close reason of its own for with
        ``labeler(order_link_id)`` (checked like any close reason); None stops labelling."""
        self._labeler = labeler

    def report_filled(self, report: bool) -> None:
        """Whether an order that fills completely also emits its ``Filled`` status update (by
        default it does). A listener that folds every fill learns nothing from it (the fills,
        emitted just before, add up to the order's qty) and may turn it off; a command's
        ``Outcome.order`` still gives the final snapshot, and every other update is emitted."""
        self._report_filled = report

    # -- commands (see orders.OrderDesk; the queries are queries.Queries) -------------------

    def place(self, account: str, request: OrderRequest | SimOrderRequest, ts_ms: int) -> Outcome:
        """Accept, fill or refuse an order; ``Outcome.order`` is its snapshot after the command."""
        known, order, events = self.place_events(account, request, ts_ms)
        if known is not None:
            return Outcome(known, tuple(events))
        return _outcome_later(order.snapshot, tuple(events))

    def place_events(
        self, account: str, request: OrderRequest | SimOrderRequest, ts_ms: int
    ) -> tuple[Order | None, SimOrder, list[SimEvent]]:
        """:meth:`place` for a caller that reads the events at once and the order's snapshot
        seldom (the backtest's venue): no :class:`Outcome` is made. Gives the snapshot after
        the command, or None when the order has ended (then ``order.snapshot()`` is it, whenever
        asked), the order itself (not to be changed) and the events (a fresh list)."""
        if type(request) is OrderRequest:
            # SimOrderRequest.takes_as_is's rule, on the fields _place reads (each read of the
            # interpreted request is a generic lookup, and the call was an interpreted frame);
            # the enum and bool fields, which OrderRequest does not check, read untyped (through
            # Any: the compiled build would refuse a read of an int reduce_only as a bool)
            symbol, bot_id = request.symbol, request.bot_id
            untyped: Any = request
            side: object = untyped.side
            order_type: object = untyped.order_type
            tif: object = untyped.time_in_force
            reduce_only: object = untyped.reduce_only
            if plain_fields(symbol, bot_id, side, order_type, tif, reduce_only):
                acct = self._placing(account, ts_ms)
                return self._place_fields(  # (the casts: what plain_fields just tested)
                    acct, request, symbol, cast(Side, side), request.qty, request.order_link_id,
                    cast(OrderType, order_type), request.price, cast(TimeInForce, tif),
                    cast(bool, reduce_only), request.trigger_price, request.take_profit,
                    request.stop_loss, bot_id, ts_ms, _NO_DIRECTION, False,
                )  # fmt: skip
        if isinstance(request, OrderRequest):
            request = SimOrderRequest.from_request(request)
        acct = self._placing(account, ts_ms)
        direction, close = request.trigger_direction, request.close_on_trigger
        return self._place(acct, request, ts_ms, direction, close)

    def _placing(self, account: str, ts_ms: int) -> SimAccount:
        """The account an order is placed on, once the time is checked (and the clock moved)."""
        acct = self._accounts.get(account)
        if acct is None:
            acct = self._account(account)  # raises: no such account
        if type(ts_ms) is int and ts_ms >= 0:  # what _clock checks, spelled out (once per order)
            if ts_ms > self._now_ms:
                self._now_ms = ts_ms
        else:
            self._clock(ts_ms)
        return acct

    def amend(self, account: str, request: AmendRequest, ts_ms: int) -> Outcome:
        """Change an open order's qty, price, trigger or TP/SL; a limit moved across fills."""
        return self._amend(self._account(account), request, self._clock(ts_ms))

    def cancel(self, account: str, request: CancelRequest, ts_ms: int) -> Outcome:
        """Cancel one open order (110001 if it is unknown or already finished)."""
        return self._cancel(self._account(account), request, self._clock(ts_ms))

    def cancel_all(self, account: str, ts_ms: int, symbol: str | None = None) -> Outcome:
        """Cancel every open order of the account (of one symbol if given); ``order`` is None."""
        return self._cancel_all(self._account(account), self._clock(ts_ms), symbol)

    def set_trading_stop(self, account: str, request: TradingStopRequest, ts_ms: int) -> Outcome:
        """Set or clear the position's TP, SL and trailing stop (0 clears, None keeps)."""
        return self._trading_stop(self._account(account), request, self._clock(ts_ms))

    def _clock(self, ts_ms: int) -> int:
        if not isinstance(ts_ms, int) or isinstance(ts_ms, bool) or ts_ms < 0:
            raise OrderRejected(RejectCode.PARAMS_ERROR, "ts_ms", ts_ms, "must be epoch ms >= 0")
        if ts_ms > self._now_ms:
            self._now_ms = ts_ms
        return ts_ms

    # -- market data ----------------------------------------------------------------------------

    def on_bar(
        self,
        symbol: str,
        open_: float,
        high: float,
        low: float,
        close: float,
        open_ms: int,
        close_ms: int,
    ) -> Sequence[SimEvent]:
        """Walk one closed bar; returns the events it caused (an empty tuple almost always).

        Fills inside the bar are stamped between ``open_ms`` and ``close_ms - 1`` (the open at
        ``open_ms``, the path's later points at thirds of the bar), so a strategy deciding at the
        close never sees a fill from its future.
        """
        book = self._books.get(symbol)
        if book is None:
            raise OrderRejected(RejectCode.PARAMS_ERROR, "symbol", symbol, "is not listed")
        # Checked before any shortcut, so a malformed bar is refused whatever is resting.
        # min()/max() spelled out (they keep the first argument unless the second is strictly
        # lower/higher, NaN included): two builtin calls on every walked bar are spared.
        lowest = close if close < open_ else open_
        highest = close if close > open_ else open_
        if not low <= lowest <= highest <= high:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR,
                "bar",
                (open_, high, low, close),
                "needs low <= open, close <= high",
            )
        self._now_ms = close_ms
        if book.orders or book.positions:
            if book.bounds_dirty:
                book.recompute_bounds()
            if book.trailing or low <= book.fall_bound or high >= book.rise_bound:
                return self._walk_bar(book, open_, high, low, close, open_ms, close_ms)
            if open_ms >= book.next_funding_ms:  # funding falls due, and nothing can trigger
                out: list[SimEvent] = []
                self._fund(book, open_ms, to_decimal(open_), out)
                book.last, book.last_dec, book.last_ms = close, None, close_ms
                return out
        book.last = close
        book.last_dec = None
        book.last_ms = close_ms
        return _NO_EVENTS

    def quiet_bounds(self, symbol: str) -> tuple[float, float, int] | None:
        """``(fall, rise, funding_ms)``: a bar of ``symbol`` with ``low > fall``,
        ``high < rise`` and ``open_ms < funding_ms`` fires nothing and settles nothing
        (:meth:`on_bar` only records its close); None when no band says it (a trailing stop that
        arms on the very next price). Lets a caller find a quiet stretch of many bars at once
        and hand it over with :meth:`pass_quiet`, instead of one :meth:`on_bar` per bar."""
        book = self._books.get(symbol)
        if book is None:
            book = self._book(symbol)  # raises: not listed
        if not book.orders and not book.positions:
            return -INF, INF, NEVER
        if book.bounds_dirty:
            book.recompute_bounds()
        if book.trailing:
            return None
        return book.fall_bound, book.rise_bound, book.next_funding_ms

    def pass_quiet(self, symbol: str, close: float, close_ms: int) -> None:
        """What :meth:`on_bar` leaves after a stretch of bars inside :meth:`quiet_bounds`,
        given the stretch's last close and close time: the last price and the clock. The caller
        vouches for the stretch (its bars lie inside the band, and were checked as :meth:`on_bar`
        checks them before the run: the backtest's ``backtest.data.align``): nothing is tested
        here."""
        book = self._books.get(symbol)
        if book is None:
            book = self._book(symbol)  # raises: not listed
        self._now_ms = close_ms
        book.last, book.last_dec, book.last_ms = close, None, close_ms

    def on_candle(self, bar: Bar) -> Sequence[SimEvent]:
        """:meth:`on_bar` for a domain Bar."""
        return self.on_bar(
            bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.open_time_ms, bar.close_time_ms
        )

    def _walk_bar(
        self,
        book: SymbolBook,
        open_: float,
        high: float,
        low: float,
        close: float,
        open_ms: int,
        close_ms: int,
    ) -> Sequence[SimEvent]:
        out: list[SimEvent] = []
        o, h, lo, c = to_decimal(open_), to_decimal(high), to_decimal(low), to_decimal(close)
        if open_ms >= book.next_funding_ms:
            self._fund(book, open_ms, o, out)
        prev = book.last_price() or o
        if (
            not book.orders
            and len(book.positions) == 1
            and self._trail_rides(book, prev, o, h, lo, c)
        ):
            book.last, book.last_dec, book.last_ms = close, c, close_ms
            book.bounds_dirty = True
            return out
        third = (close_ms - open_ms) // 3
        times = (open_ms + third, open_ms + 2 * third, max(close_ms - 1, open_ms))
        for acct in self._involved(book):
            pos = book.positions.get(acct.name)
            if adverse_high_first(pos.qty if pos is not None else Decimal(0), open_, close):
                path = (h, lo, c)
            else:
                path = (lo, h, c)
            self._move(acct, book, prev, o, True, open_ms, out)
            self._track_trail(book.positions.get(acct.name), o)
            cur = o
            for point, ts in zip(path, times, strict=True):
                self._move(acct, book, cur, point, False, ts, out)
                self._track_trail(book.positions.get(acct.name), point)
                cur = point
        book.last, book.last_dec, book.last_ms = close, c, close_ms
        book.bounds_dirty = True  # a trailing stop may have armed or followed the price
        return out

    def _involved(self, book: SymbolBook) -> list[SimAccount]:
        names = {o.account for o in book.orders}
        names.update(book.positions)
        return [a for a in self._accounts.values() if a.name in names]

    def on_tick(self, symbol: str, price: float, ts_ms: int) -> Sequence[SimEvent]:
        """:meth:`on_price` of ``to_decimal(price)`` for a float price (a bar's open, as the
        backtest places the orders decided at the previous close): the same events and state,
        with the Decimal made only when the tick can trigger, fund or fill something (a jump
        that crosses no level records the float and leaves the Decimal to the first reader)."""
        book = self._books.get(symbol)
        if (
            book is None
            or type(price) is not float
            or not 0 < price < INF
            or type(ts_ms) is not int
            or ts_ms < 0
            or ts_ms >= book.next_funding_ms
        ):
            return self.on_price(symbol, to_decimal(price), ts_ms)  # checks, funding: all of it
        if book.orders or book.positions:
            if book.bounds_dirty:
                book.recompute_bounds()
            was = book.last or price  # (book.last_price() or price), as a float
            low, high = (was, price) if was < price else (price, was)
            if book.trailing or low <= book.fall_bound or high >= book.rise_bound:
                return self.on_price(symbol, to_decimal(price), ts_ms)  # may trigger: walk it
        if ts_ms > self._now_ms:
            self._now_ms = ts_ms
        book.last, book.last_dec, book.last_ms = price, None, ts_ms
        return _NO_EVENTS

    def on_price(self, symbol: str, price: Decimal, ts_ms: int) -> Sequence[SimEvent]:
        """One trade or mark tick (the simulator's live replay); a jump from the previous price."""
        book = self._books.get(symbol)
        if book is None:
            book = self._book(symbol)  # raises: not listed
        if not (type(price) is Decimal and price.is_finite() and price > 0):
            checks.positive("price", price)  # raises, naming the field
        if type(ts_ms) is int and ts_ms >= 0:  # _clock's checks, spelled out (once per tick)
            if ts_ms > self._now_ms:
                self._now_ms = ts_ms
        else:
            self._clock(ts_ms)
        out: list[SimEvent] = []
        if ts_ms >= book.next_funding_ms:
            self._fund(book, ts_ms, book.last_price() or price, out)
        if book.orders or book.positions:
            prev = book.last_price() or price
            if book.bounds_dirty:
                book.recompute_bounds()
            was, now = float(prev), float(price)
            if (
                not book.trailing
                and min(was, now) > book.fall_bound
                and max(was, now) < book.rise_bound
            ):  # the jump crosses no level: nothing can trigger or arm (see on_bar)
                book.last, book.last_dec, book.last_ms = now, price, ts_ms
                return out
            for acct in self._involved(book):
                self._move(acct, book, prev, price, True, ts_ms, out)
                self._track_trail(book.positions.get(acct.name), price)
            book.bounds_dirty = True
        book.last, book.last_dec, book.last_ms = float(price), price, ts_ms
        return out

    def settle_funding(self, ts_ms: int) -> Sequence[SimEvent]:
        """Settle every funding boundary up to ``ts_ms`` on all symbols (prices move it too)."""
        self._clock(ts_ms)
        out: list[SimEvent] = []
        for book in self._books.values():
            mark = book.last_price()
            if ts_ms >= book.next_funding_ms and mark is not None:
                self._fund(book, ts_ms, mark, out)
        return out

    def last_price(self, symbol: str) -> Decimal | None:
        return self._book(symbol).last_price()

    def restore_protection(self, account: str, symbol: str, saved: Protection) -> None:
        """Give an open position back the protection :meth:`protection` read from an earlier
        venue (a paper bot's restart). Refused unless the position is the one it was set for."""
        pos = self._account(account).positions.get(symbol)
        held = pos.qty if pos is not None else Decimal(0)
        if pos is None or held != saved.qty:
            raise OrderRejected(
                RejectCode.PARAMS_ERROR,
                "protection.qty",
                saved.qty,
                f"was set for another position ({symbol} holds {held})",
            )
        pos.tp, pos.sl = saved.take_profit, saved.stop_loss
        pos.trail, pos.trail_activation = saved.trailing, saved.activation
        pos.trail_active, pos.trail_extreme = saved.armed, saved.extreme
        self._book(symbol).bounds_dirty = True
