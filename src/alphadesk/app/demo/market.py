"""The demo's markets: the bundled candles served by local Bybit simulators on one simulated clock.

A simulator replays one file per symbol, and BTC, ETH and SOL come both as 5-minute and as 4-hour
files, so the desk's two timeframes are two simulators (each its own "Bybit" on a loopback port,
each with the accounts of the bots that trade its market). :class:`DemoMarkets` moves them on one
clock: every step advances each market that still has candles to the same instant, by the finest
interval among them (5 minutes while the 5-minute files last, then 4 hours), so the bots, the
listener and the venues all see one time. A market whose files have ended stops (its clock and
its positions' funding stay where its data ends).

The clock starts where the 5-minute market has the 1,000 bars shortseller warms up on (2025-09-27
in the bundled files), one millisecond into a bar, so the bar in progress is "forming" as on a
live venue and the first closed bar follows the warm-up without a gap. The 4-hour files begin
only three days earlier: momentum warms up on those 19 bars and then on the replay itself, as a
backtest does from its first bar (its indicators are not ready, so it trades nothing, until it
has seen 140 bars, on 2025-10-17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alphadesk.data import market_files
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.errors import InvalidField
from alphadesk.simulator import Simulator
from alphadesk.simulator.candles import CandleSeries, load_candles

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One simulator's data: the bundled files of one timeframe and the history it needs."""

    name: str
    pattern: str
    history_bars: int


#: The bundled real Bybit candles: BTC/ETH/SOL at 5 minutes (shortseller's 1,000-bar warm-up)
#: and the eight coins at 4 hours (history from the first closed bar on, see above).
MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("5m", "*_5m_bybit-perp-*.csv", 1000),
    MarketSpec("4h", "*_4h_bybit-perp-*.csv", 1),
)


def load_market(spec: MarketSpec) -> list[CandleSeries]:
    files: list[Path] = market_files(spec.pattern)
    if not files:
        raise InvalidField("demo.market", spec.pattern, "no bundled candle file matches")
    return [load_candles(f) for f in files]


def common_start(markets: Sequence[tuple[MarketSpec, Sequence[CandleSeries]]]) -> int:
    """The first bar start at which every market has its history behind it, plus 1 ms."""
    starts = []
    for spec, series in markets:
        for s in series:
            if len(s.candles) <= spec.history_bars:
                raise InvalidField(
                    "demo.market", s.symbol, f"has fewer than {spec.history_bars + 1} candles"
                )
            starts.append(s.candles[spec.history_bars].start_ms)
    return max(starts) + 1


def data_end(series: Sequence[CandleSeries]) -> int:
    """The instant the last candle of the market closes."""
    return max(s.candles[-1].start_ms + s.interval_ms for s in series)


@dataclass
class DemoMarkets:
    """The simulators on one clock; :meth:`step` is the demo's heartbeat."""

    sims: dict[str, Simulator]
    start_ms: int
    end_ms: int
    """Where the replay stops: the end of the data, or the start plus ``--days``."""
    bars: int = 0
    """Closed candles replayed so far, every symbol of every market counted."""
    steps: int = 0
    _ends: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, sim in self.sims.items():
            self._ends[name] = data_end(list(sim.exchange.replay.tapes[s].series
                                             for s in sim.exchange.replay.tapes))
        self.end_ms = min(self.end_ms, max(self._ends.values()) + 1)

    @classmethod
    def window(cls, start_ms: int, days: float | None, data_end_ms: int) -> int:
        """The replay's end: ``days`` simulated days after the start, at most the data's end."""
        if days is None:
            return data_end_ms + 1
        return min(start_ms + int(days * DAY_MS), data_end_ms + 1)

    @property
    def now_ms(self) -> int:
        return max(sim.now_ms for sim in self.sims.values())

    def now(self) -> datetime:
        """The desk's "now": the venue clock the listener, the sync and the reconcile use."""
        return from_epoch_ms("demo.clock", self.now_ms)

    @property
    def done(self) -> bool:
        return self.now_ms >= self.end_ms or not self._live()

    def _live(self) -> list[str]:
        return [n for n, sim in self.sims.items() if sim.now_ms < min(self._ends[n] + 1,
                                                                         self.end_ms)]

    def step_ms(self) -> int:
        live = self._live()
        return min(self.sims[n].exchange.replay.step_ms for n in live) if live else 0

    def total_steps(self) -> int:
        """Steps from now to the end (for a progress bar), at the current step sizes."""
        total, now = 0, self.now_ms
        fine = {n: self.sims[n].exchange.replay.step_ms for n in self.sims}
        while now < self.end_ms:
            live = [n for n in self.sims if now < min(self._ends[n] + 1, self.end_ms)]
            if not live:
                break
            now = _next(now, min(fine[n] for n in live))
            total += 1
        return total

    def step(self) -> int:
        """Advance every live market to the next boundary of the finest live interval; returns
        the candles closed by this step."""
        live = self._live()
        if not live:
            return 0
        target = min(_next(self.now_ms, self.step_ms()), self.end_ms)
        closed = 0
        for name in live:
            sim = self.sims[name]
            if target > sim.now_ms:
                closed += sum(1 for t in sim.advance_to(target) if t.closes_bar)
        self.bars += closed
        self.steps += 1
        return closed

    def last_close_ms(self, name: str, symbols: Sequence[str]) -> int:
        """The close time of the newest candle closed in market ``name`` among ``symbols``
        (0 before any): the step a bot on that market must have decided before the next."""
        replay = self.sims[name].exchange.replay
        newest = 0
        for symbol in symbols:
            tape = replay.tape(symbol)
            if tape.closed > 0:
                candle = tape.series.candles[tape.closed - 1]
                newest = max(newest, candle.start_ms + tape.series.interval_ms)
        return newest


def _next(now_ms: int, step_ms: int) -> int:
    """The next step boundary after ``now_ms`` (boundaries sit 1 ms into a bar, as the start)."""
    base = now_ms - 1
    return (base // step_ms + 1) * step_ms + 1
