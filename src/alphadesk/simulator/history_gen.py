"""Months of an account's trading history, written straight into the matching engine's records.

A sync or reconciliation test needs an account that has traded for months; replaying months of
candles through the live engine (or in real time) would take minutes. This generator writes the
records :meth:`MatchingEngine.executions` and :meth:`MatchingEngine.closed_pnl` page through
(``/v5/execution/list`` and ``/v5/position/closed-pnl``) directly, seeded and deterministic:

- market orders at the prices of the simulator's candles (replayed cyclically over the period,
  so three months of history need no three months of candle files);
- some entries filled in two or three partial executions of one order;
- funding every 8 h (00:00, 08:00, 16:00 UTC) while a position is open;
- some exits by an exchange-side stop (``stopOrderType`` StopLoss, no ``orderLinkId``);
- one manual round trip (an order the desk did not make: no ``orderLinkId``).

Sequence numbers come from the engine's own counter, so live fills placed later still page
correctly after the generated ones. The account's wallet and positions are left as they are:
this is history, not state.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.records import ClosedPnl, CreateType, Execution, StopOrderType
from alphadesk.adapters.sim.state import utc_ms
from alphadesk.domain import order_link
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.simulator.candles import CandleSeries

DAY_MS = 86_400_000
TAKER = Decimal("0.00055")
FUNDING_RATE = Decimal("0.0001")
_LEVERAGE = Decimal(10)


@dataclass(frozen=True, slots=True)
class GeneratedHistory:
    """What one account received: counts to check a sync against."""

    account: str
    start_ms: int
    end_ms: int
    executions: int
    trades: int
    funding: int
    closed_pnl: int
    stop_exits: int
    manual_orders: int


@dataclass(slots=True)
class _Open:
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    opened_ms: int
    next_funding_ms: int


class _Writer:
    def __init__(self, engine: MatchingEngine, account: str, bot: str, seed: int) -> None:
        self.engine = engine
        self.acct = engine._account(account)
        self.account = account
        self.bot = bot
        self.rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
        self.counts = {"trades": 0, "funding": 0, "closed": 0, "stops": 0, "manual": 0}

    def exec_id(self) -> str:
        return self.engine._new_id()

    def record(self, fill: Fill, ts_ms: int, *, order_qty: Decimal, leaves: Decimal,
               stop: StopOrderType = StopOrderType.NONE,
               create: CreateType = CreateType.BY_USER) -> None:
        acct = self.acct
        acct.exec_index[fill.exec_id] = len(acct.executions)
        rate = FUNDING_RATE if fill.exec_type is ExecType.FUNDING else TAKER
        acct.executions.append(Execution(
            seq=fill.seq or 0, fill=fill, exec_ms=ts_ms, fee_rate=rate, order_price=None,
            order_qty=order_qty, leaves_qty=leaves, mark_price=fill.price,
            stop_order_type=stop, create_type=create,
        ))
        if fill.exec_type is ExecType.FUNDING:
            self.counts["funding"] += 1
        else:
            self.counts["trades"] += 1

    def trade(self, symbol: str, side: Side, qty: Decimal, price: Decimal, ts_ms: int, *,
              link: str, parts: int, closing: Decimal,
              stop: StopOrderType = StopOrderType.NONE,
              create: CreateType = CreateType.BY_USER) -> Decimal:
        """One market order in ``parts`` executions; returns the fee paid."""
        order_id = self.exec_id()
        step = self.engine.instrument(symbol).qty_step
        sizes: list[Decimal] = []
        left = qty
        share = (qty / parts / step).to_integral_value() * step
        for _ in range(parts - 1):
            if share <= 0 or share >= left:
                break
            sizes.append(share)
            left -= share
        sizes.append(left)
        total_fee = Decimal(0)
        done = Decimal(0)
        closed_left = closing
        for n, size in enumerate(sizes):
            fee = (size * price * TAKER).quantize(Decimal("0.00000001"))
            total_fee += fee
            done += size
            closes = min(size, closed_left)
            closed_left -= closes
            at = ts_ms + n  # partial fills of one order, a millisecond apart
            seq = self.engine._next_seq()
            fill = Fill.trusted(
                venue=self.engine.venue, account=self.account, exec_id=self.exec_id(),
                bot_id=order_link.decode(link).bot_id if link else self.bot, symbol=symbol,
                side=side, price=price, qty=size, fee=fee, exec_time=utc_ms("exec_time", at),
                order_id=order_id, order_link_id=link, order_type="Market",
                closed_size=closes, seq=seq,
            )
            self.record(fill, at, order_qty=qty, leaves=qty - done, stop=stop, create=create)
        return total_fee

    def funding(self, pos: _Open, price: Decimal, at: int) -> None:
        signed = pos.qty if pos.side is Side.BUY else -pos.qty
        seq = self.engine._next_seq()
        fill = Fill.trusted(
            venue=self.engine.venue, account=self.account, exec_id=self.exec_id(),
            bot_id=self.bot, symbol=pos.symbol, side=pos.side, price=price, qty=pos.qty,
            fee=signed * price * FUNDING_RATE, exec_time=utc_ms("exec_time", at),
            exec_type=ExecType.FUNDING, seq=seq,
        )
        self.record(fill, at, order_qty=Decimal(0), leaves=Decimal(0))

    def closed(self, pos: _Open, price: Decimal, close_fee: Decimal, order_id: str,
               at: int) -> None:
        exit_side = Side.SELL if pos.side is Side.BUY else Side.BUY
        sign = 1 if pos.side is Side.BUY else -1
        gross = (price - pos.price) * pos.qty * sign
        self.acct.closed.append(ClosedPnl(
            seq=self.engine._next_seq(), account=self.account, symbol=pos.symbol,
            order_id=order_id, order_type="Market", side=exit_side, qty=pos.qty,
            order_price=price, avg_entry_price=pos.price, avg_exit_price=price,
            cum_entry_value=pos.price * pos.qty, cum_exit_value=price * pos.qty,
            closed_pnl=gross - pos.fee - close_fee, open_fee=pos.fee, close_fee=close_fee,
            leverage=_LEVERAGE, created_ms=pos.opened_ms, updated_ms=at,
        ))
        self.counts["closed"] += 1


def _price(series: CandleSeries, at_ms: int, start_ms: int) -> Decimal:
    """The close of the candle that plays at ``at_ms``, the series replayed from ``start_ms``."""
    index = (at_ms - start_ms) // series.interval_ms
    return series.candles[index % len(series.candles)].close


def generate(
    engine: MatchingEngine,
    series: Sequence[CandleSeries],
    account: str,
    *,
    bot: str,
    end_ms: int,
    days: int = 90,
    seed: int = 0,
    actions_per_day: float = 6.0,
    partial_share: float = 0.3,
    stop_share: float = 0.15,
) -> GeneratedHistory:
    """Write ``days`` of history ending before ``end_ms`` for ``account`` (attributed to ``bot``
    through the desk's ``orderLinkId``s); returns what was written."""
    if days <= 0:
        raise InvalidField("history.days", days, "must be > 0")
    if actions_per_day <= 0:
        raise InvalidField("history.actions_per_day", actions_per_day, "must be > 0")
    if not series:
        raise InvalidField("history.series", len(series), "needs at least one candle series")
    start_ms = end_ms - days * DAY_MS
    w = _Writer(engine, account, bot, seed)
    rng = w.rng
    mean_gap = DAY_MS / actions_per_day
    manual_at = start_ms + days * DAY_MS // 2
    manual_done = False
    pos: _Open | None = None
    t = start_ms + int(rng.random() * mean_gap)
    while t < end_ms - 60_000:
        if pos is not None:  # funding owed up to now
            while pos.next_funding_ms <= t:
                at = pos.next_funding_ms
                w.funding(pos, _price(_series(series, pos.symbol), at, start_ms), at)
                pos.next_funding_ms = engine.next_funding_ms(pos.symbol, at)
        manual = not manual_done and t >= manual_at and pos is None
        if pos is None:
            chosen = series[rng.randrange(len(series))]
            price = _price(chosen, t, start_ms)
            instrument = engine.instrument(chosen.symbol)
            notional = Decimal(rng.randrange(200, 2000))
            qty = max(instrument.qty_step,
                      (notional / price / instrument.qty_step).to_integral_value()
                      * instrument.qty_step)
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            parts = rng.choice((2, 3)) if rng.random() < partial_share else 1
            link = "" if manual else order_link.encode(bot, order_link.Purpose.ENTRY)
            fee = w.trade(chosen.symbol, side, qty, price, t, link=link, parts=parts,
                          closing=Decimal(0))
            if manual:
                w.counts["manual"] += 1
            pos = _Open(chosen.symbol, side, qty, price, fee, t,
                        engine.next_funding_ms(chosen.symbol, t))
            manual_done = manual_done or manual
        else:
            price = _price(_series(series, pos.symbol), t, start_ms)
            exit_side = Side.SELL if pos.side is Side.BUY else Side.BUY
            by_stop = rng.random() < stop_share
            if by_stop:
                link, stop, create = "", StopOrderType.STOP_LOSS, CreateType.BY_STOP_LOSS
                w.counts["stops"] += 1
            else:
                link = order_link.encode(bot, order_link.Purpose.TAKE_PROFIT, level=1)
                stop, create = StopOrderType.NONE, CreateType.BY_USER
            before = len(w.acct.executions)
            fee = w.trade(pos.symbol, exit_side, pos.qty, price, t, link=link, parts=1,
                          closing=pos.qty, stop=stop, create=create)
            order_id = w.acct.executions[before].fill.order_id
            w.closed(pos, price, fee, order_id, t)
            pos = None
        t += max(60_000, int(rng.expovariate(1.0) * mean_gap))
    c = w.counts
    return GeneratedHistory(account, start_ms, end_ms, c["trades"] + c["funding"], c["trades"],
                            c["funding"], c["closed"], c["stops"], c["manual"])


def _series(series: Sequence[CandleSeries], symbol: str) -> CandleSeries:
    for s in series:
        if s.symbol == symbol:
            return s
    raise InvalidField("history.symbol", symbol, "has no candle series")
