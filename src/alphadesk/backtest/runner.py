"""``run(strategy, data, settings)``: the bar loop of a backtest.

The strategy runs inside the same :class:`~alphadesk.engine.runner.Engine` as live, against the
shared matching engine through :class:`BacktestVenue`. Speed comes from doing per bar only what the
bar needs: indicators are precomputed per symbol (``strategies.features``), a ``Bar`` object is
built only for bars a strategy is called on, the venue walks a bar only when something rests there
(or an order waits for its open, or funding falls due on a held position), and, when the strategy
declares which bars can wake it (an optional ``wake_bars(symbol, columns)`` returning a boolean
array, or a ``(flat, holding)`` pair where ``holding=None`` means every bar while it holds a
position or has an order in flight, plus the times it asks for with ``ctx.wake_at``), the loop
jumps over the bars where nothing can happen: no mask bar, no funding due, and every resting
order, trigger or stop out of reach of the prices (``MatchingEngine.quiet_bounds``; the stretch
is found by :mod:`alphadesk.backtest.slots`, and handed to the venue at once with
``pass_quiet``). Calling a strategy on more bars is always correct; the wake masks only leave out
calls that would do nothing, and the jumps leave the venue as walking every bar would.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from heapq import heappop
from typing import Any, final

import numpy as np
import numpy.typing as npt

from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.backtest.data import MarketData, for_strategy
from alphadesk.backtest.funding import give_rates, settlement_bars
from alphadesk.backtest.instruments import default_instrument, instrument_source
from alphadesk.backtest.jumps import Jumps
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.backtest.slots import Slot, ints
from alphadesk.backtest.venue import BacktestVenue
from alphadesk.domain.bars import new_bar
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.intents import Intent
from alphadesk.engine.risk import Refusal
from alphadesk.engine.runner import Engine
from alphadesk.strategies.api import Strategy
from alphadesk.strategies.features import FeatureTable, Ohlcv

BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[int, int], None]
"""``progress(done_steps, total_steps)``, called every few thousand timeline steps."""


@dataclass(slots=True)
class RunOutput:
    """Everything the loop produced; :mod:`alphadesk.backtest.result` turns it into a report."""

    strategy: Strategy[Any]
    data: MarketData
    settings: BacktestSettings
    bot_id: str
    instruments: dict[str, Instrument]
    fills: list[Fill]
    intents: list[Intent]
    refusals: list[Refusal]
    final_equity: Decimal
    final_cash: Decimal
    steps_run: int
    strategy_calls: int
    seconds: float
    instrument_sources: dict[str, str] = field(default_factory=dict)
    """Symbol -> where its rules came from (settings, data folder, bundled Bybit, derived)."""
    funding_sources: dict[str, str] = field(default_factory=dict)
    """Symbol -> what funding it was charged: the history (settlements, files) or the fallback."""


def default_bot_id(strategy: Strategy[Any]) -> str:
    return f"{strategy.name}"[:16] + "_bt"


def _wake(
    strategy: Strategy[Any], symbol: str, columns: Mapping[str, npt.NDArray[np.float64]], n: int
) -> tuple[BoolArray | None, BoolArray | None]:
    """(flat mask, holding mask); None means every bar."""
    hook = getattr(strategy, "wake_bars", None)
    if hook is None:
        return None, None
    got = hook(symbol, columns)
    if got is None:
        return None, None
    flat, holding = got if isinstance(got, tuple) else (got, got)

    def norm(mask: Any) -> BoolArray | None:
        if mask is None:
            return None
        arr = np.asarray(mask, dtype=bool)
        if arr.shape != (n,):
            raise ValueError(f"{strategy.name}.wake_bars({symbol}) gave shape {arr.shape}")
        return arr

    return norm(flat), norm(holding)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the loop. A run keeps every fill, order and intent
    alive, so each full collection re-scans a heap that only grows, for nothing: the loop makes
    next to no reference cycles. Whatever it did make is collected once the run is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What the run allocated sits in the youngest generation; left there, the first
        # collection after re-enabling would walk all of it at once. It is long-lived (the
        # run's fills, orders and intents), so it moves to the oldest generation, which the
        # collector visits only as that generation grows.
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def run(
    strategy: Strategy[Any],
    data: MarketData,
    settings: BacktestSettings | None = None,
    *,
    progress: Progress | None = None,
) -> RunOutput:
    settings = settings or BacktestSettings()
    started = time.perf_counter()
    # the strategy's universe and timeframe: same data back when it already fits
    data = for_strategy(data, strategy)
    symbols = data.symbols
    instruments: dict[str, Instrument] = {}
    instrument_sources: dict[str, str] = {}
    for s in symbols:
        given = settings.instruments.get(s) or data.instruments.get(s)
        instruments[s] = given or default_instrument(data.series[s])
        instrument_sources[s] = (
            "settings" if s in settings.instruments
            else "data folder (Bybit instruments-info)" if given is not None
            else instrument_source(s)
        )
    bot_id = settings.bot_id or default_bot_id(strategy)
    # the run's fills are the engine's; nobody pages the venue's history
    config = settings.sim_config(keep_history=False)
    sim = MatchingEngine("backtest", instruments.values(), config=config, seed=0)
    funding_sources = give_rates(sim, data, settings)
    sim.open_account(bot_id, settings.initial_equity)
    venue = BacktestVenue(sim, bot_id)
    engine = Engine(
        strategy,
        bot_id=bot_id,
        instruments=instruments,
        gateway=venue,
        initial_cash=settings.initial_equity,
        limits=settings.limits,
        kill_limits=settings.kill_limits,
    )
    venue.engine = engine
    sim.label_fills(engine.fill_label)  # the fills come labelled: no copy per fill to label it
    with _collector_paused():
        steps, calls = _loop(strategy, data, settings, engine, venue, progress)
    final_cash = engine.portfolio.cash
    final_equity = engine.portfolio.equity
    engine.stop(int(data.close_times[-1]))
    return RunOutput(
        strategy=strategy,
        data=data,
        settings=settings,
        bot_id=bot_id,
        instruments=instruments,
        fills=engine.fills,
        intents=engine.intents,
        refusals=engine.refusals,
        final_equity=final_equity,
        final_cash=final_cash,
        steps_run=steps,
        strategy_calls=calls,
        seconds=time.perf_counter() - started,
        instrument_sources=instrument_sources,
        funding_sources=funding_sources,
    )


@final
class Cursor:
    """The bar loop's current step, read by its price source: a native int field on the compiled
    build, where the one-item list it was boxed the step into a new int object on every store
    (once per visited step)."""

    def __init__(self) -> None:
        self.step = 0


def _loop(
    strategy: Strategy[Any],
    data: MarketData,
    settings: BacktestSettings,
    engine: Engine,
    venue: BacktestVenue,
    progress: Progress | None,
) -> tuple[int, int]:
    symbols = data.symbols
    specs = strategy.indicators()
    timeline_len = len(data.timeline)
    interval = data.interval_min
    span_ms = interval * 60_000
    slots: list[Slot] = []
    wake_flat = np.zeros(timeline_len, dtype=bool)
    every_step = not settings.skip_quiet_bars or engine.watch_drawdown
    for symbol in symbols:
        bars = data.series[symbol]
        ohlcv = Ohlcv.of(bars.open, bars.high, bars.low, bars.close, bars.volume)
        table = FeatureTable(specs, ohlcv)
        n = len(bars)
        columns = dict(table.arrays)
        for name in ("open", "high", "low", "close", "volume"):
            columns.setdefault(name, getattr(ohlcv, name))
        flat, holding = (
            _wake(strategy, symbol, columns, n) if settings.skip_quiet_bars else (None, None)
        )
        if flat is None:
            every_step = True
        in_timeline = data.index[symbol]
        present = in_timeline >= 0
        if flat is not None:
            wake_flat[present] |= flat[in_timeline[present]]
        slots.append(
            Slot(
                symbol,
                in_timeline,
                bars.ts_ms,
                bars.open,
                bars.high,
                bars.low,
                bars.close,
                bars.volume,
                table.row(),
                flat,
                holding,
                settlement_bars(venue.sim, symbol, bars.ts_ms),
            )
        )
    close_times = ints(data.close_times)
    jumps = Jumps(slots, venue, engine, close_times, ints(np.flatnonzero(wake_flat)), span_ms)

    portfolio = engine.portfolio
    cursor = Cursor()
    by_symbol = jumps.by_symbol

    def price_now(symbol: str) -> float:
        """The symbol's latest close at the current step, skipped bars included."""
        slot = by_symbol[symbol]
        return slot.c[max(0, slot.latest[cursor.step])]

    portfolio.use_price_source(price_now)
    inflight = engine.router.inflight
    in_flight = engine.router.in_flight  # asked only while some order is in flight
    positions = portfolio.positions
    pending = venue.pending
    resting = venue.resting
    # wake_at times are kept whenever wake masks leave bars out, stepping every step or not (a
    # kill switch or a maskless symbol makes the loop step every step, but the masks still
    # decide the calls); a run without masks calls every bar and needs none
    timers: list[tuple[int, str]] | None = [] if settings.skip_quiet_bars else None
    engine.ctx.timers = timers
    due = jumps.due
    engine.start(int(data.timeline[0]) if timeline_len else 0)
    watch = engine.watch_drawdown
    steps = calls = 0
    deciding: list[tuple[Slot, int, float, float, float, float, int]] = []
    """The symbols called at this step: slot, bar and the bar's open, high, low, close and open
    time as the walk read them (read once: each read of a machine array makes a new object)."""
    k = 0 if every_step or pending or inflight else jumps.next_visit(0)
    report_every = 50_000
    while k < timeline_len:
        steps += 1
        cursor.step = k
        if timers and timers[0][0] <= close_times[k]:
            close_ms = close_times[k]
            while timers and timers[0][0] <= close_ms:
                woken = heappop(timers)[1]
                if woken in by_symbol:  # a symbol outside the run has no bar to call on
                    due.add(woken)
        # 1. the venue walks every symbol's bar: fills inside the bars happen before the close
        deciding.clear()
        for slot in slots:
            i = slot.index[k]
            if i < 0:
                continue
            symbol = slot.symbol
            opened = symbol in pending
            if opened:  # the bar's open and open time, read once for the open and the walk
                open_ms = slot.ts[i]
                o = slot.o[i]
                venue.open(symbol, o, open_ms)
            busy = symbol in positions or bool(inflight and in_flight(symbol))
            mask = slot.call_holding if busy else slot.call_flat
            call = mask is None or mask[i]
            if due and symbol in due:  # a wake_at time came: called whatever the mask says
                due.discard(symbol)
                call = True
            if call or resting.get(symbol) or (busy and slot.boundary[i]):
                if not opened:  # (each column read makes a new object: see ``deciding``)
                    open_ms = slot.ts[i]
                    o = slot.o[i]
                h, lo, c = slot.h[i], slot.lo[i], slot.c[i]
                venue.walk(symbol, o, h, lo, c, open_ms, open_ms + span_ms)
                if not call:  # the walk may have closed the position (a stop fired) or opened
                    # one (an order filled): on_bar sees the state after it, so its mask counts
                    after = symbol in positions or bool(inflight and in_flight(symbol))
                    if after is not busy:
                        mask = slot.call_holding if after else slot.call_flat
                        call = mask is None or mask[i]
            if call:  # walked above (a called bar always is): o, h, lo, c, open_ms are its own
                deciding.append((slot, i, o, h, lo, c, open_ms))
        # 2. the strategy decides on the closed bars, all symbols marked at this close
        called = bool(deciding)
        for slot, i, o, h, lo, c, open_ms in deciding:
            calls += 1
            bar = new_bar(
                slot.symbol,
                interval,
                open_ms,
                o,
                h,
                lo,
                c,
                slot.v[i],
                0.0,  # turnover: the CSVs carry none
            )
            engine.on_bar(bar, slot.row.at(i))
        if called:
            engine.on_bars_closed(close_times[k])
        if watch:
            engine.observe_equity(close_times[k])
        if progress is not None and steps % report_every == 0:
            progress(k, timeline_len)
        if every_step or pending or inflight:
            k += 1
        else:
            k = jumps.next_visit(k + 1)
    # the run ends at the last step even when the loop jumped past it: final equity marks open
    # positions at the last closes, as a run visiting every bar does
    cursor.step = max(0, timeline_len - 1)
    if progress is not None:
        progress(timeline_len, timeline_len)
    return steps, calls
