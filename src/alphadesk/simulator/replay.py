"""The replayed market: a simulated clock walking candle files tick by tick.

Each candle is played as four ticks, open, the extreme nearer the open, the other extreme, close
(a rising bar goes open-low-high-close, a falling one open-high-low-close), at its start, one and
two thirds through, and on its last millisecond. The last tick closes the bar (Bybit's
``confirm: true``). The clock is the only source of market time: the stepped mode moves it by
whole bars for tests, the paced mode by ``speed`` simulated seconds per real second.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain.errors import InvalidField
from alphadesk.simulator.candles import Candle, CandleSeries

TICKS_PER_BAR = 4


@dataclass(frozen=True, slots=True)
class Tick:
    time_ms: int
    symbol: str
    price: Decimal
    qty: Decimal
    candle_index: int
    phase: int

    @property
    def closes_bar(self) -> bool:
        return self.phase == TICKS_PER_BAR - 1


@dataclass(frozen=True, slots=True)
class Kline:
    """One (possibly still forming) kline at any interval that is a multiple of the file's."""

    start_ms: int
    interval_min: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal
    confirmed: bool

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.interval_min * 60_000 - 1


def tick_prices(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if candle.close >= candle.open:
        return candle.open, candle.low, candle.high, candle.close
    return candle.open, candle.high, candle.low, candle.close


def tick_times(candle: Candle, interval_ms: int) -> tuple[int, int, int, int]:
    s = candle.start_ms
    return s, s + interval_ms // 3, s + 2 * interval_ms // 3, s + interval_ms - 1


class SymbolTape:
    """One symbol's position in its file: closed candles, the forming one and the last price."""

    def __init__(self, series: CandleSeries, start_ms: int) -> None:
        self.series = series
        starts = [c.start_ms for c in series.candles]
        closed = sum(1 for s in starts if s + series.interval_ms <= start_ms)
        if closed == 0:
            raise InvalidField(
                "replay.start_ms", start_ms, f"{series.symbol} has no closed candle before it"
            )
        self.closed = closed
        self.phase = -1
        self.price = series.candles[closed - 1].close
        self._next = (closed, 0)
        self._skip_to(start_ms)

    def _skip_to(self, start_ms: int) -> None:
        """Start mid-bar silently when the clock starts inside a candle."""
        while (tick := self.peek()) is not None and tick.time_ms < start_ms:
            self.take()

    @property
    def symbol(self) -> str:
        return self.series.symbol

    def peek(self) -> Tick | None:
        index, phase = self._next
        if index >= len(self.series.candles):
            return None
        candle = self.series.candles[index]
        price = tick_prices(candle)[phase]
        time_ms = tick_times(candle, self.series.interval_ms)[phase]
        qty = candle.volume / TICKS_PER_BAR
        return Tick(time_ms, self.symbol, price, qty, index, phase)

    def take(self) -> Tick:
        tick = self.peek()
        if tick is None:
            raise IndexError(f"{self.symbol}: the candle file is exhausted")
        self.price = tick.price
        self.phase = tick.phase
        if tick.closes_bar:
            self.closed = tick.candle_index + 1
            self.phase = -1
            self._next = (tick.candle_index + 1, 0)
        else:
            self._next = (tick.candle_index, tick.phase + 1)
        return tick

    def forming(self) -> Kline | None:
        """The file-interval candle in progress, built from the ticks played so far."""
        if self.phase < 0:
            return None
        candle = self.series.candles[self.closed]
        prices = tick_prices(candle)[: self.phase + 1]
        share = Decimal(self.phase + 1) / TICKS_PER_BAR
        volume = candle.volume * share
        return Kline(
            candle.start_ms, self.series.interval_min, candle.open, max(prices), min(prices),
            prices[-1], volume, volume * prices[-1], confirmed=False,
        )

    def klines(self, interval_min: int, start_ms: int | None, end_ms: int | None,
               limit: int) -> list[Kline]:
        """Newest first, like Bybit: the newest ``limit`` klines with start in [start, end]."""
        base = self.series.interval_min
        if interval_min % base:
            raise InvalidField(
                "interval", interval_min, f"must be a multiple of {base} min for {self.symbol}"
            )
        step = interval_min * 60_000
        out: list[Kline] = []
        parts: list[Kline] = []
        for row in self._rows_newest_first():
            bucket = row.start_ms - row.start_ms % step
            if parts and bucket != parts[0].start_ms - parts[0].start_ms % step:
                self._emit(parts, interval_min, step, start_ms, end_ms, out)
                parts = []
                if len(out) >= limit or (start_ms is not None and bucket + step <= start_ms):
                    return out
            parts.insert(0, row)
        if parts:
            self._emit(parts, interval_min, step, start_ms, end_ms, out)
        return out[:limit]

    def _rows_newest_first(self) -> Iterator[Kline]:
        forming = self.forming()
        if forming is not None:
            yield forming
        base = self.series.interval_min
        for index in range(self.closed - 1, -1, -1):
            yield _closed_kline(self.series.candles[index], base)

    @staticmethod
    def _emit(parts: list[Kline], interval_min: int, step: int, start_ms: int | None,
              end_ms: int | None, out: list[Kline]) -> None:
        bucket = parts[0].start_ms - parts[0].start_ms % step
        if (start_ms is not None and bucket < start_ms) or (end_ms is not None and bucket > end_ms):
            return
        last = parts[-1]
        out.append(Kline(
            bucket, interval_min, parts[0].open, max(p.high for p in parts),
            min(p.low for p in parts), last.close, sum((p.volume for p in parts), Decimal(0)),
            sum((p.turnover for p in parts), Decimal(0)),
            confirmed=last.confirmed and last.end_ms == bucket + step - 1,
        ))


def _closed_kline(candle: Candle, interval_min: int) -> Kline:
    return Kline(candle.start_ms, interval_min, candle.open, candle.high, candle.low, candle.close,
                 candle.volume, candle.turnover, confirmed=True)


def default_start_ms(series: Sequence[CandleSeries], history_bars: int) -> int:
    """The first instant at which every file has ``history_bars`` closed candles behind it."""
    return max(
        s.candles[min(history_bars, len(s.candles) - 1)].start_ms for s in series
    )


class MarketReplay:
    """All symbols on one clock; :meth:`advance_to` returns the ticks due, in time order."""

    def __init__(self, series: Sequence[CandleSeries], start_ms: int | None = None,
                 history_bars: int = 200) -> None:
        if not series:
            raise InvalidField("replay.data", [], "needs at least one candle file")
        names = [s.symbol for s in series]
        if len(set(names)) != len(names):
            raise InvalidField("replay.data", names, "has two files for one symbol")
        self.start_ms = default_start_ms(series, history_bars) if start_ms is None else start_ms
        self.now_ms = self.start_ms
        self.tapes = {s.symbol: SymbolTape(s, self.start_ms) for s in series}
        self.step_ms = min(s.interval_ms for s in series)

    def tape(self, symbol: str) -> SymbolTape:
        try:
            return self.tapes[symbol]
        except KeyError:
            raise InvalidField("symbol", symbol, "is not replayed by this simulator") from None

    def price(self, symbol: str) -> Decimal:
        return self.tape(symbol).price

    def advance_to(self, time_ms: int) -> list[Tick]:
        return list(self.play(time_ms))

    def play(self, time_ms: int) -> Iterator[Tick]:
        """Play every tick with ``time < time_ms``, one at a time (the tapes reflect each tick
        when it is yielded); the clock never goes back."""
        if time_ms < self.now_ms:
            raise InvalidField("replay.time_ms", time_ms, f"is before now ({self.now_ms})")
        heap: list[tuple[int, str]] = []
        for tape in self.tapes.values():
            tick = tape.peek()
            if tick is not None and tick.time_ms < time_ms:
                heapq.heappush(heap, (tick.time_ms, tape.symbol))
        while heap:
            _, symbol = heapq.heappop(heap)
            tape = self.tapes[symbol]
            tick = tape.take()
            nxt = tape.peek()
            if nxt is not None and nxt.time_ms < time_ms:
                heapq.heappush(heap, (nxt.time_ms, symbol))
            yield tick
        self.now_ms = time_ms

    @property
    def exhausted(self) -> bool:
        return all(t.peek() is None for t in self.tapes.values())
