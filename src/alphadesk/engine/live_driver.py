"""The async loop around the synchronous Engine, for paper and live (demo, testnet, mainnet).

Bars: only closed bars reach the strategy (Bybit's ``confirm=true``; a replay's finished candle).
Each bar updates its symbol's incremental features at once; when every symbol's bar of one close
time is in (or a later bar shows one will not come, or ``grace_s`` passes), the strategy decides
on them in symbol order and ``on_bars_closed`` follows: the backtest's order exactly, so paper and
backtest give the same intents.

Orders: the Engine's gateway is synchronous, so :class:`QueuedGateway` only queues. The driver
sends the queue through an async :class:`LiveVenue`: at once in live mode (a sender task), or,
in a replay, when the symbol's next price arrives (the backtest's next-open fill). A definite
refusal (``InvalidField``) is reported to the engine; any other failure leaves the outcome
unknown, the order stays in flight, and the driver asks the venue by ``orderLinkId`` until it
finds the order or is sure it never arrived. Protection (trading stop, cancels) goes out as soon
as it is asked for, after the orders queued before it.

Reports: fills (de-duplicated by exec id, since a stream may repeat one) and order updates go to
the engine, then to ``on_fill`` hooks (the ledger). Nothing here ever flattens a position: stopping
the driver stops deciding and sending, and leaves the venue as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from alphadesk.domain.bars import Bar
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.ports import LiveVenue
from alphadesk.engine.runner import Engine
from alphadesk.strategies.features import LiveFeatures

log = logging.getLogger("alphadesk.live")

Protection = TradingStopRequest | CancelRequest
FillHook = Callable[[Fill], Awaitable[None]]
Backfill = Callable[[str, int, int], Awaitable[Sequence[Bar]]]
"""``backfill(symbol, first_open_ms, last_open_ms)``: closed bars a stream skipped."""


class QueuedGateway:
    """The Engine's synchronous :class:`~alphadesk.engine.ports.OrderGateway`: it only queues."""

    def __init__(self) -> None:
        self.orders: deque[OrderRequest] = deque()
        self.protection: deque[Protection] = deque()
        self.wake = asyncio.Event()

    def submit(self, request: OrderRequest) -> None:
        self.orders.append(request)
        self.wake.set()

    def cancel(self, request: CancelRequest) -> None:
        self.protection.append(request)
        self.wake.set()

    def set_trading_stop(self, request: TradingStopRequest) -> None:
        self.protection.append(request)
        self.wake.set()


@dataclass(slots=True)
class DriverStats:
    bars: int = 0
    steps: int = 0
    orders_sent: int = 0
    protections_sent: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    unknown_outcomes: int = 0
    backfilled: int = 0
    warmed: int = 0
    last_close_ms: int = 0
    errors: list[str] = field(default_factory=list)


class LiveDriver:
    def __init__(
        self,
        engine: Engine,
        venue: LiveVenue,
        gateway: QueuedGateway,
        symbols: Sequence[str],
        *,
        history: int = 1,
        hold_orders_for_next_price: bool = False,
        grace_s: float = 5.0,
        resolve_attempts: int = 5,
        resolve_delay_s: float = 0.5,
        backfill: Backfill | None = None,
    ) -> None:
        self.engine = engine
        self.venue = venue
        self.gateway = gateway
        self.symbols = sorted(symbols)
        specs = engine.strategy.indicators()
        self.features: dict[str, LiveFeatures] = {s: LiveFeatures(specs, history) for s in symbols}
        self.hold = hold_orders_for_next_price
        self.grace_s = grace_s
        self.resolve_attempts = resolve_attempts
        self.resolve_delay_s = resolve_delay_s
        self.backfill = backfill
        self.fill_hooks: list[FillHook] = []
        self.stats = DriverStats()
        self._last_open: dict[str, int] = {}
        self._pending: dict[int, dict[str, Bar]] = {}
        self._seen_fills: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()
        self._decide_lock = asyncio.Lock()
        self._running = False

    # -- warm-up --------------------------------------------------------------------------------

    def warm_up(self, bars: Mapping[str, Sequence[Bar]]) -> int:
        """Feed closed history to the features only: no strategy calls, no orders."""
        count = 0
        for symbol, series in bars.items():
            features = self.features.get(symbol)
            if features is None:
                continue
            for bar in series:
                if bar.open_time_ms <= self._last_open.get(symbol, -1):
                    continue
                features.update(bar)
                self._last_open[symbol] = bar.open_time_ms
                self.engine.portfolio.mark(symbol, bar.close)
                count += 1
        self.stats.warmed += count
        return count

    # -- bars -----------------------------------------------------------------------------------

    async def on_closed_bar(self, bar: Bar) -> None:
        """One closed bar from the stream or a replay; decides once its close time is complete."""
        symbol = bar.symbol
        if symbol not in self.features:
            return
        last = self._last_open.get(symbol)
        if last is not None and bar.open_time_ms <= last:
            return  # a repeat (reconnect snapshot, duplicate push)
        span = bar.interval_min * 60_000
        if last is not None and bar.open_time_ms > last + span and self.backfill is not None:
            await self._fill_gap(symbol, last + span, bar.open_time_ms - span)
        self._last_open[symbol] = bar.open_time_ms
        self.stats.bars += 1
        self.engine.portfolio.mark(symbol, bar.close)
        close = bar.close_time_ms
        for older in [t for t in self._pending if t < close]:
            await self.decide(older)  # a later bar came: the older step will not complete
        step = self._pending.setdefault(close, {})
        step[symbol] = bar
        if len(step) == len(self.symbols):
            await self.decide(close)
        elif len(step) == 1 and not self.hold and self.grace_s > 0:
            self._spawn(self._decide_later(close))

    async def _fill_gap(self, symbol: str, first_open: int, last_open: int) -> None:
        assert self.backfill is not None
        try:
            missing = await self.backfill(symbol, first_open, last_open)
        except Exception as exc:
            log.warning("backfill %s %s..%s failed: %s", symbol, first_open, last_open, exc)
            return
        for bar in missing:
            if first_open <= bar.open_time_ms <= last_open:
                self.features[symbol].update(bar)
                self._last_open[symbol] = bar.open_time_ms
                self.stats.backfilled += 1
        log.warning(
            "%s: fed %d missed bars to the features (no decisions on them)",
            symbol,
            self.stats.backfilled,
        )

    async def _decide_later(self, close_ms: int) -> None:
        await asyncio.sleep(self.grace_s)
        if close_ms in self._pending:
            await self.decide(close_ms)

    async def decide(self, close_ms: int) -> None:
        """The strategy's turn on every bar of ``close_ms`` received, then ``on_bars_closed``."""
        async with self._decide_lock:
            step = self._pending.pop(close_ms, None)
            if step is None:
                return
            engine = self.engine
            for symbol in sorted(step):
                bar = step[symbol]
                engine.on_bar(bar, self.features[symbol].update(bar))
                await self.send_protection()
            engine.on_bars_closed(close_ms)
            engine.observe_equity(close_ms)
            self.stats.steps += 1
            self.stats.last_close_ms = close_ms
        await self.send_protection()
        if not self.hold:
            await self.send_orders()

    # -- sending --------------------------------------------------------------------------------

    async def send_orders(self, symbol: str | None = None) -> None:
        """Send queued orders (all, or only ``symbol``'s: a replay at that symbol's next open)."""
        async with self._send_lock:
            queue = self.gateway.orders
            keep: deque[OrderRequest] = deque()
            while queue:
                request = queue.popleft()
                if symbol is not None and request.symbol != symbol:
                    keep.append(request)
                    continue
                await self._place(request)
                await self._send_protection_unlocked()
            queue.extendleft(reversed(keep))

    async def send_protection(self) -> None:
        async with self._send_lock:
            await self._send_protection_unlocked()

    async def _send_protection_unlocked(self) -> None:
        queue = self.gateway.protection
        while queue:
            request = queue.popleft()
            try:
                if isinstance(request, TradingStopRequest):
                    await self.venue.set_trading_stop(request)
                else:
                    await self.venue.cancel_order(request)
                self.stats.protections_sent += 1
            except Exception as exc:
                log.error("%s %s failed: %s", type(request).__name__, request.symbol, exc)
                self.stats.errors.append(f"{type(request).__name__} {request.symbol}: {exc}")

    async def _place(self, request: OrderRequest) -> None:
        engine = self.engine
        try:
            order = await self.venue.place_order(request)
        except InvalidField as exc:
            engine.on_reject(request, f"venue refused: {exc}", engine.ctx.now_ms)
            return
        except Exception as exc:
            self.stats.unknown_outcomes += 1
            flight = engine.router.inflight.get(request.order_link_id)
            if flight is not None:
                flight.unknown = True
            log.warning("order %s: outcome unknown (%s); resolving", request.order_link_id, exc)
            self._spawn(self._resolve(request))
            return
        self.stats.orders_sent += 1
        if order is not None:
            engine.on_order(OrderUpdated(self.venue.venue, self.venue.account, order))

    async def _resolve(self, request: OrderRequest) -> None:
        """Ask the venue by orderLinkId until it says what became of an order."""
        link = request.order_link_id
        for attempt in range(self.resolve_attempts):
            if link not in self.engine.router.inflight:
                return  # a report on the stream settled it meanwhile
            try:
                order = await self.venue.find_order(request.symbol, link)
            except Exception as exc:
                log.warning("order %s: lookup %d failed: %s", link, attempt + 1, exc)
                order = None
            else:
                if order is not None:
                    self.engine.on_order(OrderUpdated(self.venue.venue, self.venue.account, order))
                    return
            await asyncio.sleep(self.resolve_delay_s * (attempt + 1))
        if link in self.engine.router.inflight:
            log.error(
                "order %s: not at the venue after %d lookups; treated as not placed",
                link,
                self.resolve_attempts,
            )
            self.engine.on_reject(request, "not found at venue", self.engine.ctx.now_ms)

    async def run_sender(self) -> None:
        """Live mode: send whatever the engine queues, as soon as it queues it."""
        self._running = True
        gateway = self.gateway
        while self._running:
            await gateway.wake.wait()
            gateway.wake.clear()
            await self.send_protection()
            if not self.hold:
                await self.send_orders()

    # -- reports --------------------------------------------------------------------------------

    async def on_fill(self, fill: Fill) -> None:
        key = (fill.account, fill.exec_id)
        if key in self._seen_fills:
            self.stats.duplicate_fills += 1
            return
        self._seen_fills.add(key)
        if fill.bot_id != self.engine.bot_id:
            return
        self.stats.fills += 1
        self.engine.on_fill(fill)
        labelled = self.engine.fills[-1] if self.engine.fills else fill
        for hook in self.fill_hooks:
            await hook(labelled)

    def on_order(self, update: OrderUpdated) -> None:
        self.engine.on_order(update)

    def seen(self, fills: Sequence[Fill]) -> None:
        """Fills already in the book (the ledger at restart): a replay of one is not applied."""
        self._seen_fills.update((f.account, f.exec_id) for f in fills)

    # -- lifecycle ------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop background work; positions and resting protection stay as they are."""
        self._running = False
        self.gateway.wake.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
