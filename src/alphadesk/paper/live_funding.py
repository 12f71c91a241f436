"""The funding a paper bot on live prices is charged: Bybit's own rate for each settlement.

Bybit's public ``tickers`` carry, per symbol, ``fundingRate`` (the rate the coming settlement will
charge, updated until it happens) and ``nextFundingTime``. :class:`LiveFunding` reads them once
over REST at the start and then from the WebSocket ``tickers`` topic, and records each in the
paper venue's matching engine for that settlement time (which also moves an open position's next
settlement there, should the symbol's interval differ from what its rules said). Before the venue
walks a bar that settles funding, each settlement in it is looked up in the public funding
history, Bybit's record of the rate actually charged, which replaces the ticker's; a settlement
neither covers pays the constant rate, logged as the fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from alphadesk.adapters.bybit import BybitClient
from alphadesk.adapters.bybit.errors import BybitError
from alphadesk.adapters.bybit.models import Ticker
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.funding import hours
from alphadesk.domain.checks import from_epoch_ms, to_epoch_ms
from alphadesk.domain.errors import InvalidField

log = logging.getLogger("alphadesk.bot")

TICKER, HISTORY, FALLBACK = "Bybit tickers", "Bybit funding history", "constant (fallback)"


def _iso(ms: int) -> str:
    return from_epoch_ms("funding.ts_ms", ms).strftime("%Y-%m-%dT%H:%MZ")


class LiveFunding:
    def __init__(self, client: BybitClient, symbols: Sequence[str]) -> None:
        self.client = client
        self.symbols = list(symbols)
        self.sources: dict[tuple[str, int], str] = {}
        """(symbol, settlement ms) -> where its rate came from (TICKER, HISTORY or FALLBACK)."""
        self._checked: dict[str, int] = {}

    async def start(self, engine: MatchingEngine, start_ms: int) -> None:
        """Each symbol's next settlement and rate from the REST tickers; settlements from
        ``start_ms`` on are checked before the venue charges them."""
        for symbol in self.symbols:
            self._checked[symbol] = start_ms - 1
            try:
                ticker = await self.client.market.ticker(symbol)
            except (BybitError, InvalidField) as exc:
                log.warning("paper funding: %s: no ticker from Bybit (%s)", symbol, exc)
                continue
            self.on_ticker(engine, ticker)
            interval = engine.funding_interval_ms(symbol)
            log.info(
                "paper funding: %s settles every %s (%s); next %s",
                symbol,
                hours(interval),
                engine.funding_interval_source(symbol),
                self._describe(engine, symbol, ticker),
            )

    def on_ticker(self, engine: MatchingEngine, ticker: Ticker) -> None:
        """Record the rate a ticker gives for its next settlement (the newest wins)."""
        if ticker.funding_rate is None or ticker.next_funding_time is None:
            return  # a delta without the funding fields
        if ticker.symbol not in self._checked:
            return
        at = to_epoch_ms(ticker.next_funding_time)
        if self.sources.get((ticker.symbol, at)) == HISTORY:
            return  # Bybit's record of the settled rate stays
        engine.set_funding_rate_at(ticker.symbol, at, ticker.funding_rate)
        self.sources[(ticker.symbol, at)] = TICKER

    async def before_walk(self, engine: MatchingEngine, symbol: str, open_ms: int) -> None:
        """Give every settlement a walk from ``open_ms`` charges its rate: Bybit's record, else
        the ticker's, else the constant (logged)."""
        since = self._checked.get(symbol)
        if since is None or open_ms <= since:
            return
        for at in engine.funding_times(symbol, since, open_ms):
            await self._settle_rate(engine, symbol, at)
        self._checked[symbol] = open_ms

    async def _settle_rate(self, engine: MatchingEngine, symbol: str, at: int) -> None:
        recorded = await self._history(symbol, at)
        if recorded is not None:
            engine.set_funding_rate_at(symbol, at, recorded)
            self.sources[(symbol, at)] = HISTORY
        elif (symbol, at) not in self.sources:
            engine.set_funding_rate_at(symbol, at, engine.funding_rate_at(symbol, at))
            self.sources[(symbol, at)] = FALLBACK
            log.warning(
                "paper funding: %s settlement %s charged the constant fallback %s: "
                "Bybit gave no rate for it",
                symbol,
                _iso(at),
                engine.funding_rate_at(symbol, at),
            )
            return
        log.info(
            "paper funding: %s settlement %s at %s (%s)",
            symbol,
            _iso(at),
            engine.funding_rate_at(symbol, at),
            self.sources[(symbol, at)],
        )

    async def _history(self, symbol: str, at: int) -> Decimal | None:
        when = from_epoch_ms("funding.ts_ms", at)
        try:
            rows = await self.client.market.funding_history(symbol, when, when)
        except (BybitError, InvalidField) as exc:
            log.warning("paper funding: %s: no funding history from Bybit (%s)", symbol, exc)
            return None
        for row in rows:
            if to_epoch_ms(row.at) == at:
                return row.rate
        return None

    @staticmethod
    def _describe(engine: MatchingEngine, symbol: str, ticker: Ticker) -> str:
        if ticker.funding_rate is None or ticker.next_funding_time is None:
            return f"unknown (the constant {engine.funding_constant(symbol)} as the fallback)"
        at = to_epoch_ms(ticker.next_funding_time)
        return f"{_iso(at)} at {ticker.funding_rate} ({TICKER})"
