"""The simulated exchange: replayed market, matching engine, accounts and live subscribers.

Everything that changes state goes through here, on one event loop, so REST handlers, the paced
clock and test calls to :meth:`SimExchange.advance` never interleave inside the engine. Each
replayed tick moves the engine's last price first and only then reaches public subscribers, so
a fill caused by a tick is already in the execution list when the tick's kline arrives.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated, PositionReported, WalletReported
from alphadesk.domain.fills import Fill
from alphadesk.domain.instruments import Instrument
from alphadesk.simulator import account_payloads as ap
from alphadesk.simulator import market_payloads as mp
from alphadesk.simulator.accounts import SimAccount, number_accounts
from alphadesk.simulator.candles import CandleSeries
from alphadesk.simulator.faults import Faults
from alphadesk.simulator.ratelimits import RateLimits, RateWindows
from alphadesk.simulator.replay import MarketReplay, Tick

VENUE = "bybit-sim"


class Subscriber(Protocol):
    channel: str
    account: SimAccount | None

    def wants(self, topic: str) -> bool: ...

    def deliver(self, message: dict[str, Any]) -> None: ...

    def release(self) -> None:
        """Deliver the topic messages held while the exchange was holding pushes."""
        ...

    def public_topics(self) -> Iterable[str]: ...


class SimExchange:
    def __init__(
        self,
        series: Sequence[CandleSeries],
        accounts: Sequence[SimAccount],
        *,
        start_ms: int | None = None,
        history_bars: int = 200,
        config: SimConfig | None = None,
        seed: int = 0,
        rate_limits: RateLimits | None = None,
    ) -> None:
        """No accounts is allowed: public market data only, every key answered 10003."""
        self.config = config or SimConfig(emit_snapshots=True)
        self.replay = MarketReplay(series, start_ms, history_bars)
        self.series = {s.symbol: s for s in series}
        self.instruments: dict[str, Instrument] = {
            s.symbol: s.instrument or mp.instrument_for(s) for s in series
        }
        self.accounts = {a.key: a for a in number_accounts(list(accounts))}
        self.engine = MatchingEngine(VENUE, self.instruments.values(), config=self.config,
                                     seed=seed)
        for s in series:
            if s.funding:  # recorded rates where the data has them; the constant elsewhere
                self.engine.set_funding_history(s.symbol, s.funding)
        for account in self.accounts.values():
            self.engine.open_account(account.name, account.balance)
        for symbol, tape in self.replay.tapes.items():
            self.engine.on_price(symbol, tape.price, self.replay.now_ms)
        self.faults = Faults()
        self.rate_windows = RateWindows(rate_limits)
        # Requests received per path (REST calls and WebSocket connections alike): what a test
        # asserts a client never called (a key-less paper bot: nothing under /v5/order).
        self.requests: Counter[str] = Counter()
        self.subscribers: set[Subscriber] = set()
        # Bybit puts several rows in one private message when they are ready together; with
        # coalesce_rows > 1 a connection that has fallen behind merges its queued messages of one
        # topic into frames of up to that many rows (see WsSession.write_loop).
        self.coalesce_rows = 1
        # While True, every connection keeps the topic messages it would push (replies to
        # pings and subscriptions still go out): a test or benchmark builds up a backlog and
        # releases it at once with release_pushes().
        self.holding_pushes = False
        self._seq = itertools.count(1)
        self._by_name = {a.name: a for a in self.accounts.values()}
        self._last: dict[str, tuple[Decimal, int]] = {
            symbol: (tape.price, self.replay.now_ms) for symbol, tape in self.replay.tapes.items()
        }

    # -- clock ----------------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.replay.now_ms

    def advance(self, bars: int = 1) -> list[Tick]:
        """Play ``bars`` steps of the finest file interval (a 5-minute file: 5 minutes each)."""
        if bars < 0:
            raise InvalidField("bars", bars, "must be >= 0")
        return self.advance_to(self.now_ms + bars * self.replay.step_ms)

    def advance_to(self, time_ms: int) -> list[Tick]:
        topics = self._public_topics()
        ticks: list[Tick] = []
        for tick in self.replay.play(time_ms):
            ticks.append(tick)
            before = self._last.get(tick.symbol)
            self.publish_events(self._feed(tick, before))
            if topics:
                self._publish_tick(tick, topics, before[0] if before else None)
            self._last[tick.symbol] = (tick.price, tick.time_ms)
        if time_ms > self.replay.start_ms:
            self.publish_events(self.engine.settle_funding(time_ms - 1))
        return ticks

    def _feed(self, tick: Tick, before: tuple[Decimal, int] | None) -> Sequence[SimEvent]:
        """A bar's open is a jump from the last close; moves inside a bar are continuous, so a
        resting limit the price passes through fills at its own price, as on an exchange."""
        if tick.phase == 0 or before is None:
            return self.engine.on_price(tick.symbol, tick.price, tick.time_ms)
        price, since = before
        return self.engine.on_bar(
            tick.symbol, float(price), float(max(price, tick.price)),
            float(min(price, tick.price)), float(tick.price), since, tick.time_ms + 1,
        )

    # -- market data to subscribers -------------------------------------------------------------
    def _public_topics(self) -> set[str]:
        out: set[str] = set()
        for sub in self.subscribers:
            if sub.channel == "public":
                out.update(sub.public_topics())
        return out

    def _broadcast(self, topic: str, message: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.channel == "public" and sub.wants(topic):
                sub.deliver(message)

    def _publish_tick(self, tick: Tick, topics: set[str], before: Decimal | None) -> None:
        tape = self.replay.tape(tick.symbol)
        now = tick.time_ms
        for topic in sorted(topics):
            parts = topic.split(".")
            if parts[-1] != tick.symbol:
                continue
            if parts[0] == "kline":
                minutes = mp.parse_interval(parts[1])
                if minutes is None or minutes % tape.series.interval_min:
                    continue
                klines = tape.klines(minutes, None, None, 1)
                if klines:
                    self._broadcast(topic, mp.ws_kline(tick.symbol, klines[0], now))
            elif parts[0] == "tickers":
                payload = self.ticker(tick.symbol)
                self._broadcast(topic, mp.ws_ticker(payload, now, next(self._seq)))
            elif parts[0] == "publicTrade":
                side = "Sell" if before is not None and tick.price < before else "Buy"
                self._broadcast(topic, mp.ws_public_trade(tick, side))

    def ticker(self, symbol: str) -> dict[str, Any]:
        tape = self.replay.tape(symbol)
        engine = self.engine
        at = engine.next_funding_ms(symbol, self.now_ms)
        return mp.ticker(tape, self.instruments[symbol], self.now_ms,
                         engine.funding_rate_at(symbol, at), at, engine.funding_interval_ms(symbol))

    # -- private pushes -------------------------------------------------------------------------
    def account_by_name(self, name: str) -> SimAccount | None:
        return self._by_name.get(name)

    def hold_pushes(self) -> None:
        self.holding_pushes = True

    def release_pushes(self) -> None:
        self.holding_pushes = False
        for sub in list(self.subscribers):
            sub.release()

    def publish_events(self, events: Iterable[SimEvent]) -> None:
        """Turn engine events into Bybit private messages, one per account and topic."""
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for event in events:
            rendered = self._render(event)
            if rendered is None:
                continue
            account, topic, payload = rendered
            grouped.setdefault((account, topic), []).append(payload)
        for (account, topic), data in grouped.items():
            data.extend(self.faults.ws_rows(topic))
            message = {
                "id": f"{uuid.uuid4().hex[:12]}-{topic}",
                "topic": topic,
                "creationTime": self.now_ms,
                "data": data,
            }
            copies = 2 if topic == "execution" and self.faults.take_duplicate() else 1
            for sub in list(self.subscribers):
                if sub.channel == "private" and sub.account is not None \
                        and sub.account.name == account and sub.wants(topic):
                    for _ in range(copies):
                        sub.deliver(message)

    def _render(self, event: SimEvent) -> tuple[str, str, dict[str, Any]] | None:
        if isinstance(event, Fill):
            execution = self.engine.execution(event.account, event.exec_id)
            return event.account, "execution", ap.execution_payload(execution, ws=True)
        if isinstance(event, OrderUpdated):
            view = self.engine.order(event.account, order_id=event.order.order_id)
            return event.account, "order", ap.order_payload(view, event.order, ws=True)
        if isinstance(event, PositionReported):
            leverage = self.engine.leverage(event.account, event.symbol)
            payload = ap.position_payload(event, leverage, next(self._seq), ws=True)
            return event.account, "position", payload
        if isinstance(event, WalletReported):
            return event.account, "wallet", ap.wallet_payload(event, ws=True)
        return None
