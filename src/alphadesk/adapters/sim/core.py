"""The engine's mechanics: applying a fill to an order, a position and a wallet; funding.

Kept apart from :mod:`~alphadesk.adapters.sim.engine` (commands and market data), from
:mod:`~alphadesk.adapters.sim.queries` and from :mod:`~alphadesk.adapters.sim.accounts` (ids,
lookups, margin, reports) so that each stays readable. Position arithmetic mirrors
``domain.positions.Position`` (cost basis, proportional removal on a close) so simulated PnL
agrees with the ledger's fold of the same fills.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Final

from alphadesk.adapters.sim.accounts import Accounts
from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.funding import FundingSchedule, funding_fee, funding_side
from alphadesk.adapters.sim.records import (
    ClosedPnl,
    CreateType,
    Execution,
    SimEvent,
    StopOrderType,
)
from alphadesk.adapters.sim.state import (
    NEVER,
    ZERO,
    SimAccount,
    SimOrder,
    SimPosition,
    SymbolBook,
    utc_ms,
)
from alphadesk.domain import checks
from alphadesk.domain.allocation import share
from alphadesk.domain.enums import ExecType, OrderStatus, OrderType, Side
from alphadesk.domain.epoch import utc_at
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import (
    EARLIEST_EXEC_MS,
    LATEST_EXEC_MS,
    MAX_AMOUNT,
    Fill,
    checked_label,
    make_fill,
)
from alphadesk.domain.slots import slot_maker

BotResolver = Callable[[str, str], str]
"""``(account, order_link_id) -> bot_id``; when given, it names the bot of every new order."""
FillLabeler = Callable[[str], str]
"""``order_link_id -> close_reason`` for a trade the venue has no reason of its own for (not a
take-profit, stop or trailing stop): the trading engine's label for why it sent the order, so the
fill is made labelled once instead of being copied with the label later."""

_CLOSE_REASON: Final = {
    StopOrderType.TAKE_PROFIT: "TakeProfit",
    StopOrderType.STOP_LOSS: "StopLoss",
    StopOrderType.TRAILING_STOP: "TrailingStop",
}


_TYPE_TEXT: Final = {t: t.value for t in OrderType}
# Enum members read per trade, bound once: on Python 3.11 ``Side.BUY`` goes through
# EnumType.__getattr__'s lookup hook, about ten times the cost of reading a module global.
_BUY: Final = Side.BUY
_FILLED: Final = OrderStatus.FILLED
_BY_USER: Final = CreateType.BY_USER
_TRADE: Final = ExecType.TRADE
_FUNDING: Final = ExecType.FUNDING
TERMINAL: Final = frozenset(s for s in OrderStatus if s.is_terminal)
_order_updated = slot_maker(OrderUpdated)
"""``OrderUpdated(venue, account, order)`` from values the engine holds (one per status change)."""

# share: the ledger's own pro-rata rule, so the simulator's closed PnL and the ledger's positions
# agree to the last digit (called by its own name: a native call on the compiled build).
# The fill's bounds and maker, read per trade: Final copies are C statics on the compiled build,
# where a name imported from an interpreted module is a dict lookup on every read.
_EARLIEST_MS: Final = EARLIEST_EXEC_MS
_LATEST_MS: Final = LATEST_EXEC_MS
_MAX_AMOUNT: Final = MAX_AMOUNT
_MIN_FEE: Final = -MAX_AMOUNT


class EngineCore(Accounts):
    def __init__(
        self, venue: str, config: SimConfig, seed: int, bot_resolver: BotResolver | None
    ) -> None:
        checks.text("venue", venue, max_len=32)
        self.venue = venue
        self.config = config
        # The knobs read per order, read once here (a SimConfig is frozen): on the compiled
        # build each read of the interpreted config is a generic attribute lookup, some six per
        # order; the engine's own fields are native reads.
        self._keep_history = config.keep_history
        self._emit_snapshots = config.emit_snapshots
        self._check_margin = config.check_margin
        self._maker_fee = config.maker_fee
        self._taker_fee = config.taker_fee
        self._default_leverage = config.default_leverage
        self._rng = random.Random(seed)  # noqa: S311 - ids must repeat, not be secret
        self._ids: list[str] = []  # drawn ahead, the next one last (accounts.Accounts._new_id)
        self._seq = 0
        self._no_slippage = config.slippage.is_zero
        self._accounts: dict[str, SimAccount] = {}
        self._books: dict[str, SymbolBook] = {}
        self._schedules: dict[str, FundingSchedule] = {}
        """Each symbol's funding settlement times (its interval; its recorded history's times)."""
        self._interval_sources: dict[str, str] = {}
        self._bot_resolver = bot_resolver
        self._labeler: FillLabeler | None = None
        self._labels_ok: set[str] = set()
        self._report_filled = True
        self._now_ms = 0

    # -- orders ---------------------------------------------------------------------------------

    def _set_status(
        self,
        order: SimOrder,
        status: OrderStatus,
        ts_ms: int,
        out: list[SimEvent],
        reason: str = "",
    ) -> None:
        order.status = status
        order.updated_ms = ts_ms
        if reason:
            order.reject_reason = reason
        if status in TERMINAL:
            self._release(order)
            if status is _FILLED and not self._report_filled:
                return  # its fills, just before, say all the update would
        out.append(_order_updated(self.venue, order.account, order.snapshot()))

    def _release(self, order: SimOrder) -> None:
        order.im = ZERO
        acct = self._accounts[order.account]
        if acct.open.pop(order.order_id, None) is not None:
            if not self._keep_history:  # a finished order is history: not kept
                acct.orders.pop(order.order_id, None)
            book = self._books[order.symbol]
            book.orders.remove(order)
            book.bounds_dirty = True

    def _rest(self, order: SimOrder, status: OrderStatus, ts_ms: int, out: list[SimEvent]) -> None:
        acct = self._accounts[order.account]
        if order.order_id not in acct.open:
            acct.open[order.order_id] = order
            self._books[order.symbol].orders.append(order)
        self._books[order.symbol].bounds_dirty = True
        self._set_status(order, status, ts_ms, out)

    def _fill_order(
        self,
        order: SimOrder,
        price: Decimal,
        is_maker: bool,
        ts_ms: int,
        out: list[SimEvent],
        reason: str = "",
    ) -> None:
        """Fill the rest of ``order`` at ``price``; a reduce-only fill is cut to the position."""
        acct = self._accounts[order.account]
        pos = acct.positions.get(order.symbol)
        if pos is None:
            pos = self._position(acct, order.symbol)
        qty = order.qty - order.filled_qty  # order.remaining
        if order.reduce_only or order.close_on_trigger:
            closes = pos.qty != ZERO and (pos.qty > ZERO) != (order.side is _BUY)
            if not closes:
                status = OrderStatus.DEACTIVATED if order.trigger_price else OrderStatus.CANCELLED
                self._set_status(order, status, ts_ms, out, "EC_ReduceOnlySetButNoPosition")
                return
            qty = min(qty, abs(pos.qty))
        protect = order.tp is not None or order.sl is not None
        opening_before = (
            self._opening_qty(acct, order.symbol, order.side, qty) if protect else ZERO
        )
        self._trade(acct, pos, order, qty, price, is_maker, ts_ms, out, reason)
        if opening_before and pos.qty:
            pos.tp = order.tp or pos.tp
            pos.sl = order.sl or pos.sl
            self._books[order.symbol].bounds_dirty = True
        if order.qty != order.filled_qty:  # order.remaining
            self._set_status(order, OrderStatus.PARTIALLY_FILLED_CANCELED, ts_ms, out)
        elif self._report_filled:
            self._set_status(order, _FILLED, ts_ms, out)
        else:  # what _set_status does, the update left out
            order.status = _FILLED
            order.updated_ms = ts_ms
            if order.order_id in self._accounts[order.account].open:
                self._release(order)
            else:  # never rested (filled on arrival): nothing else to release
                order.im = ZERO

    def _trade(
        self,
        acct: SimAccount,
        pos: SimPosition,
        order: SimOrder,
        qty: Decimal,
        price: Decimal,
        is_maker: bool,
        ts_ms: int,
        out: list[SimEvent],
        reason: str,
    ) -> None:
        book = self._books[pos.symbol]
        rate = self._maker_fee if is_maker else self._taker_fee
        notional = price * qty
        fee = notional * rate
        signed = qty if order.side is _BUY else -qty
        held = pos.qty
        closing = ZERO
        gross = ZERO
        # (Decimals against ZERO throughout: against an int, the int is made a Decimal first)
        opens = held == ZERO or (held > ZERO) == (signed > ZERO)
        if not opens:
            closing = abs(held)
            if not closing < qty:  # min(qty, abs(held)): qty unless the position is smaller
                closing = qty
        # The fill is checked before anything changes, so one it refuses (a label, time, price,
        # size or fee out of bounds) raises with the account, position and order as they were.
        label = reason or _CLOSE_REASON.get(order.stop_order_type, "")
        if not label and self._labeler is not None:
            label = self._labeler(order.order_link_id)
            if label not in self._labels_ok:  # checked once per distinct label (a handful)
                checked_label(label)
                if len(self._labels_ok) < 4096:
                    self._labels_ok.add(label)
        bot = order.bot_id
        # What the engine's own state cannot vouch for is tested here, cheaply: the time and the
        # price come from the market data (the time as int ms, before any datetime is made), the
        # quantity and fee follow from them, the bot id from the resolver. The rest (ids, the
        # symbol, enums, the label, seq) is the engine's own, checked where it entered. Anything
        # doubtful goes through Fill.trusted, which raises naming the field (or makes the fill).
        checked: Fill | None = None
        if not (
            type(ts_ms) is int
            and _EARLIEST_MS <= ts_ms < _LATEST_MS
            and ZERO < price <= _MAX_AMOUNT
            and ZERO < qty <= _MAX_AMOUNT
            and _MIN_FEE <= fee <= _MAX_AMOUNT
            and type(bot) is str
            and 0 < len(bot) <= 50
        ):
            # the id and seq the fill gets below (a close numbers its closed-PnL record first)
            checked = Fill.trusted(
                self.venue, acct.name, self._peek_id(), bot, pos.symbol, order.side, price, qty,
                fee, utc_ms("ts", ts_ms), _TRADE, is_maker, order.order_id, order.order_link_id,
                _TYPE_TEXT[order.order_type], closing, label, self._seq + (1 if opens else 2),
            )  # fmt: skip
        if opens:
            if held == ZERO:
                self._open_position(book, pos, order.bot_id, ts_ms)
            pos.qty = held + signed
            pos.cost += notional
            pos.open_fee += fee
            if order.create_type is _BY_USER:
                pos.bot_id = order.bot_id
        else:
            full = closing == abs(held)
            removed = pos.cost if full else share(pos.cost, closing, abs(held))
            open_fee = pos.open_fee if full else share(pos.open_fee, closing, abs(held))
            close_fee = fee if closing == qty else share(fee, closing, qty)
            proceeds = closing * price
            gross = proceeds - removed if held > ZERO else removed - proceeds
            pos.realized += gross
            pos.cost -= removed
            pos.open_fee -= open_fee
            pos.qty = held + signed
            if not self._keep_history:
                self._seq += 1  # the record's number, so every later one is numbered the same
            else:
                acct.closed.append(
                    ClosedPnl(
                        seq=self._next_seq(),
                        account=acct.name,
                        symbol=pos.symbol,
                        order_id=order.order_id,
                        order_type=_TYPE_TEXT[order.order_type],
                        side=order.side,
                        qty=closing,
                        order_price=order.price if order.price is not None else price,
                        avg_entry_price=removed / closing,
                        avg_exit_price=price,
                        cum_entry_value=removed,
                        cum_exit_value=proceeds,
                        closed_pnl=gross - open_fee - close_fee,
                        open_fee=open_fee,
                        close_fee=close_fee,
                        leverage=self._leverage(acct, pos.symbol),
                        created_ms=ts_ms,
                        updated_ms=ts_ms,
                    )
                )
            if pos.qty == ZERO:
                self._close_position(book, pos)
            elif qty > closing:  # flipped: the rest opens a fresh position at this price
                pos.cost = (qty - closing) * price
                pos.open_fee = fee - close_fee
                pos.clear_protection()
                self._open_position(book, pos, order.bot_id, ts_ms)
            book.bounds_dirty = True
        pos.fees += fee
        pos.updated_ms = ts_ms
        acct.wallet += gross - fee
        order.filled_qty += qty
        order.cum_value += notional
        order.cum_fee += fee
        order.updated_ms = ts_ms
        self._seq += 1  # the execution's number, Bybit's ``seq``: the fold's tie-break
        seq = self._seq
        ids = self._ids  # self._new_id(), the call spared while the batch lasts
        exec_id = ids.pop() if ids else self._new_id()
        if checked is None:
            fill = make_fill(
                self.venue, acct.name, exec_id, bot, pos.symbol, order.side, price, qty, fee,
                utc_at(ts_ms), _TRADE, "USDT", is_maker, order.order_id, order.order_link_id,
                _TYPE_TEXT[order.order_type], closing, label, seq,
            )  # fmt: skip
        else:  # made and checked above, with this id and seq
            fill = checked
        if self._keep_history:
            self._record(acct, fill, seq, ts_ms, rate, order, price)
        out.append(fill)
        if self._emit_snapshots:
            out.append(self._position_report(acct, pos.symbol))
            out.append(self._wallet_report(acct))

    def _open_position(self, book: SymbolBook, pos: SimPosition, bot_id: str, ts_ms: int) -> None:
        pos.bot_id = bot_id
        pos.funded_ms = ts_ms
        pos.next_funding_ms = self._schedules[pos.symbol].next_after(ts_ms)
        book.positions[pos.account] = pos
        book.next_funding_ms = min(book.next_funding_ms, pos.next_funding_ms)

    def _close_position(self, book: SymbolBook, pos: SimPosition) -> None:
        pos.cost = ZERO
        pos.open_fee = ZERO
        pos.clear_protection()
        pos.next_funding_ms = NEVER
        book.positions.pop(pos.account, None)
        soonest = NEVER  # min(..., default=NEVER) of the rest, without a generator (per exit)
        for p in book.positions.values():
            if p.next_funding_ms < soonest:
                soonest = p.next_funding_ms
        book.next_funding_ms = soonest

    def _record(
        self,
        acct: SimAccount,
        fill: Fill,
        seq: int,
        ts_ms: int,
        rate: Decimal,
        order: SimOrder | None,
        mark: Decimal,
    ) -> None:
        if not self._keep_history:
            return
        acct.exec_index[fill.exec_id] = len(acct.executions)
        acct.executions.append(
            Execution(
                seq=seq,
                fill=fill,
                exec_ms=ts_ms,
                fee_rate=rate,
                order_price=order.price if order is not None else None,
                order_qty=order.qty if order is not None else ZERO,
                leaves_qty=order.remaining if order is not None else ZERO,
                mark_price=mark,
                stop_order_type=order.stop_order_type if order is not None else StopOrderType.NONE,
                create_type=order.create_type if order is not None else CreateType.BY_USER,
            )
        )

    # -- funding --------------------------------------------------------------------------------

    def _fund(self, book: SymbolBook, ts_ms: int, mark: Decimal, out: list[SimEvent]) -> None:
        """Settle every boundary <= ts_ms for the book's positions, at ``mark``.

        A held position pays at every settlement, thousands of times in a long backtest: the
        rates are read once per call, the fill is made as ``_trade`` makes it and recorded only
        when the venue keeps its history."""
        schedule = self._schedules[book.instrument.symbol]
        history = book.funding_rates
        constant = book.funding_rate
        keep = self._keep_history
        soonest = NEVER  # the book's next settlement: min over its positions, as it goes
        for pos in list(book.positions.values()):
            acct = self._accounts[pos.account]
            while pos.next_funding_ms <= ts_ms and pos.qty:
                at = pos.next_funding_ms
                rate = constant if history is None else history.get(at, constant)
                signed = pos.qty
                fee = funding_fee(signed, mark, rate)
                size = abs(signed)
                bot = pos.bot_id
                checked: Fill | None = None
                if not (  # as in _trade: the settlement time, the mark and what follows from them
                    type(at) is int
                    and EARLIEST_EXEC_MS <= at < LATEST_EXEC_MS
                    and ZERO < mark <= MAX_AMOUNT
                    and size <= MAX_AMOUNT
                    and -MAX_AMOUNT <= fee <= MAX_AMOUNT
                    and type(bot) is str
                    and 0 < len(bot) <= 50
                ):  # checked before the position and wallet change, as in _trade
                    checked = Fill.trusted(
                        self.venue, acct.name, self._peek_id(), bot, pos.symbol,
                        funding_side(signed), mark, size, fee, utc_ms("exec_time", at),
                        _FUNDING, False, "", "", "", ZERO, "", self._seq + 1,
                    )  # fmt: skip
                pos.funded_ms = at
                pos.next_funding_ms = schedule.next_after(at)
                pos.funding += fee
                acct.wallet -= fee
                self._seq += 1  # self._next_seq()
                seq = self._seq
                if checked is None:
                    fill = make_fill(
                        self.venue, acct.name, self._new_id(), bot, pos.symbol,
                        funding_side(signed), mark, size, fee, utc_at(at), _FUNDING, "USDT", False,
                        "", "", "", ZERO, "", seq,
                    )  # fmt: skip
                else:  # made above with the id drawn now and this seq
                    self._new_id()
                    fill = checked
                if keep:
                    self._record(acct, fill, seq, at, rate, None, mark)
                out.append(fill)
            if pos.next_funding_ms < soonest:
                soonest = pos.next_funding_ms
        book.next_funding_ms = soonest
