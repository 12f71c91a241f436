"""The matching engine's funding set-up: each symbol's interval, recorded rates and constant.

A symbol settles on its instrument's ``funding_interval_min`` when Bybit's rules say it; else on
the spacing its recorded rate history shows (a 4-hourly history settles every 4 hours); else on
``config.funding_interval_ms`` (8 hours by default). Inside a recorded history's span the history's
own times are the settlements (see :class:`~alphadesk.adapters.sim.funding.FundingSchedule`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from alphadesk.adapters.sim.core import EngineCore
from alphadesk.adapters.sim.funding import FundingSchedule, inferred_interval_ms
from alphadesk.adapters.sim.state import SymbolBook
from alphadesk.domain import checks
from alphadesk.domain.errors import InvalidField

INSTRUMENT, HISTORY, DEFAULT = "instrument", "history", "default"
"""Where a symbol's funding interval came from (:meth:`FundingDesk.funding_interval_source`)."""


class FundingDesk(EngineCore):
    def _listed(self, book: SymbolBook) -> None:
        """A new book's schedule: the instrument's interval, else the configured one."""
        minutes = book.instrument.funding_interval_min
        interval = self.config.funding_interval_ms if minutes is None else minutes * 60_000
        self._schedules[book.instrument.symbol] = FundingSchedule(interval)
        self._interval_sources[book.instrument.symbol] = DEFAULT if minutes is None else INSTRUMENT

    def set_funding_rate(self, symbol: str, rate: Decimal) -> None:
        """The constant rate: settlements without a recorded rate pay it (default
        ``config.funding_rate``)."""
        self._book(symbol).funding_rate = checks.decimal("funding_rate", rate)

    def set_funding_history(self, symbol: str, rates: Mapping[int, Decimal]) -> None:
        """Charge the recorded rate at each settlement time it has (epoch ms), settling at those
        times; outside the history's span the symbol's interval grid pays the constant rate. A
        symbol whose instrument does not say its interval takes the history's spacing."""
        book = self._book(symbol)
        recorded = {int(t): checks.decimal("funding_rate", r) for t, r in rates.items()}
        book.funding_rates = recorded or None
        schedule = self._schedules[symbol]
        schedule.times = sorted(recorded)
        if self._interval_sources[symbol] != INSTRUMENT:
            inferred = inferred_interval_ms(schedule.times)
            if inferred is not None:
                schedule.interval_ms = inferred
                self._interval_sources[symbol] = HISTORY
        self._reschedule(book)

    def set_funding_rate_at(self, symbol: str, ts_ms: int, rate: Decimal) -> None:
        """Record one settlement's rate (a live feed's rate for the next settlement): the
        settlement happens at ``ts_ms`` and charges ``rate``; a later call for the same time
        replaces the rate."""
        book = self._book(symbol)
        if type(ts_ms) is not int or ts_ms < 0:
            raise InvalidField("funding.ts_ms", ts_ms, "must be epoch milliseconds (an int >= 0)")
        rate = checks.decimal("funding_rate", rate)
        if book.funding_rates is None:
            book.funding_rates = {}
        book.funding_rates[ts_ms] = rate
        if self._schedules[symbol].add(ts_ms):
            self._reschedule(book)

    def funding_constant(self, symbol: str) -> Decimal:
        """The fallback rate of settlements without a recorded one."""
        return self._book(symbol).funding_rate

    def funding_rate_at(self, symbol: str, ts_ms: int) -> Decimal:
        """The rate a settlement at ``ts_ms`` charges."""
        book = self._book(symbol)
        if book.funding_rates is None:
            return book.funding_rate
        return book.funding_rates.get(ts_ms, book.funding_rate)

    def funding_interval_ms(self, symbol: str) -> int:
        """The symbol's settlement interval (outside a recorded history's span)."""
        self._book(symbol)
        return self._schedules[symbol].interval_ms

    def funding_interval_source(self, symbol: str) -> str:
        """``instrument``, ``history`` (the recorded spacing) or ``default`` (the config's)."""
        self._book(symbol)
        return self._interval_sources[symbol]

    def next_funding_ms(self, symbol: str, ts_ms: int) -> int:
        """The symbol's first settlement strictly after ``ts_ms``."""
        self._book(symbol)
        return self._schedules[symbol].next_after(ts_ms)

    def funding_times(self, symbol: str, start_ms: int, end_ms: int) -> list[int]:
        """The symbol's settlements in ``(start_ms, end_ms]``, oldest first."""
        self._book(symbol)
        return self._schedules[symbol].between(start_ms, end_ms)

    def _reschedule(self, book: SymbolBook) -> None:
        """Open positions' next settlement under the symbol's current schedule."""
        schedule = self._schedules[book.instrument.symbol]
        for pos in book.positions.values():
            pos.next_funding_ms = schedule.next_after(pos.funded_ms)
        book.next_funding_ms = min(
            (p.next_funding_ms for p in book.positions.values()), default=book.next_funding_ms
        )
