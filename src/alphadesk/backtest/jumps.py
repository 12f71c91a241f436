"""Where a backtest's bar loop goes next when nothing is pending or in flight.

The loop (:mod:`alphadesk.backtest.runner`) steps bar by bar while an order waits or a strategy
is deciding; otherwise it asks :meth:`Jumps.next_visit` for the next step that can matter and
hands the stretch before it to the venue in one go.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from alphadesk.backtest.slots import Slot, next_step_from, quiet_until
from alphadesk.backtest.venue import BacktestVenue
from alphadesk.engine.runner import Engine


class Jumps:
    """Where the loop goes next when nothing is pending or in flight: past every bar that, stepped
    one by one, would call no strategy and fire, fund or change nothing in the venue.

    Such a bar is one where no symbol's wake mask (its holding one while it holds a position, its
    flat one otherwise) is set, no ``wake_at`` time has come, no held symbol's funding falls due,
    and each symbol with something resting stays inside the engine's quiet band. The resting
    symbols' bars would be walked and leave only their last close: :meth:`BacktestVenue.pass_quiet`
    hands that over, in the order the walks would have happened.
    """

    __slots__ = (
        "by_symbol",
        "close_times",
        "due",
        "engine",
        "flat_at",
        "flat_union",
        "next_flat",
        "slots",
        "span_ms",
        "timer_ms",
        "timer_step",
        "venue",
    )

    def __init__(
        self,
        slots: list[Slot],
        venue: BacktestVenue,
        engine: Engine,
        close_times: Sequence[int],
        flat_union: Sequence[int],
        span_ms: int,
    ) -> None:
        self.slots = slots
        self.by_symbol = {slot.symbol: slot for slot in slots}
        self.venue = venue
        self.engine = engine
        self.close_times = close_times
        self.flat_union = flat_union
        """Steps where some symbol's flat mask is set: the only ones to visit when all are flat
        and nothing rests."""
        self.span_ms = span_ms
        self.due: set[str] = set()
        """Symbols whose ``wake_at`` time came and that have not been called since."""
        self.next_flat = self.timer_ms = self.timer_step = -1  # the last look-ups' answers
        self.flat_at = -1  # where next_flat is in flat_union

    def next_visit(self, start: int) -> int:
        """The first step at or after ``start`` that must be stepped; the stretch before it is
        passed over in the venue."""
        close_times = self.close_times
        cap = len(close_times)
        if start >= cap:
            return start
        timers = self.engine.ctx.timers
        if timers:
            if timers[0][0] != self.timer_ms:  # the first step closing at or after it
                self.timer_ms = timers[0][0]
                self.timer_step = bisect_left(close_times, self.timer_ms)
            cap = self.timer_step
            if cap <= start:
                return start
        for symbol in self.due:  # its time came where it had no bar: called on its next one
            cap = min(cap, self.by_symbol[symbol].bar_from(start))
            if cap <= start:
                return start
        venue = self.venue
        resting = venue.resting
        positions = self.engine.portfolio.positions
        if not positions and not _any_rests(resting):
            found = self.next_flat
            if found < start:
                found, self.flat_at = next_step_from(
                    self.flat_union, start, len(close_times), self.flat_at
                )
                self.next_flat = found
            return found if found < cap else cap
        watched: list[tuple[Slot, float, float]] = []
        for slot in self.slots:
            symbol = slot.symbol
            held = symbol in positions
            wake = slot.wake_from(held, start)  # start itself: every bar while held
            if wake < cap:
                cap = wake
            if held:  # a held position's funding bars are walked
                funding = slot.boundary_from(start)
                if funding < cap:
                    cap = funding
            if cap <= start:
                return start
            if resting.get(symbol):
                bounds = venue.sim.quiet_bounds(symbol)
                if bounds is None:
                    return start
                fall, rise, funding_ms = bounds
                funding = slot.step_from(funding_ms)
                if funding < cap:
                    cap = funding
                watched.append((slot, fall, rise))
        stop = quiet_until(start, cap, watched)
        if stop > start and watched:
            self._pass(start, stop, watched)
        return stop

    def _pass(self, start: int, stop: int, watched: list[tuple[Slot, float, float]]) -> None:
        """Each watched symbol's last bar in ``[start, stop)``, by step (then slot order, as the
        loop walks them), handed to the venue as a quiet stretch."""
        passes: list[tuple[int, Slot, int]] = []
        for slot, _fall, _rise in watched:
            i = slot.latest[stop - 1]
            if i >= 0 and slot.steps[i] >= start:
                passes.append((slot.steps[i], slot, i))
        passes.sort(key=_first)  # stable: slot order among the same step
        span_ms = self.span_ms
        venue = self.venue
        for _step, slot, i in passes:
            venue.pass_quiet(slot.symbol, slot.c[i], slot.ts[i] + span_ms)


def _any_rests(resting: dict[str, bool]) -> bool:
    """``any(resting.values())``: mypyc compiles ``any`` of a generator into a loop over the
    dict's values, where the builtin ran a generic iterator over them (once per visit)."""
    return any(rests for rests in resting.values())


def _first(item: tuple[int, Slot, int]) -> int:
    return item[0]
