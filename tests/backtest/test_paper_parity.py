"""Parity: the same candles through the backtest and through the paper venue (replayed prices,
live incremental indicators, async venue) give the same intents and the same fills.

The paper side is driven like a live bot: after each bar closes the engine decides, its orders
wait in a queue and reach the venue when the next price (the next bar's open) arrives; protection
changes go out at once. Both sides use a matching engine with the same seed, so even exec ids agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.adapters.sim.clock import ReplayClock
from alphadesk.adapters.sim.config import SimConfig
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.paper import PaperExchange
from alphadesk.adapters.sim.records import SimEvent
from alphadesk.backtest.data import MarketData, load
from alphadesk.backtest.instruments import default_instrument
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.bars import to_decimal
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.events import OrderUpdated
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import CancelRequest, OrderRequest, TradingStopRequest
from alphadesk.engine.runner import Engine
from alphadesk.strategies import build
from alphadesk.strategies.features import LiveFeatures

END = 1_759_881_600_000  # 2025-10-08: two weeks of 5-minute bars


class QueueGateway:
    """What a live runner does: queue orders for the venue, send protection at once (queued
    here and flushed by the loop before the next event)."""

    def __init__(self) -> None:
        self.orders: dict[str, list[OrderRequest]] = {}
        self.stops: list[TradingStopRequest | CancelRequest] = []

    def submit(self, request: OrderRequest) -> None:
        self.orders.setdefault(request.symbol, []).append(request)

    def cancel(self, request: CancelRequest) -> None:
        self.stops.append(request)

    def set_trading_stop(self, request: TradingStopRequest) -> None:
        self.stops.append(request)


async def paper_run(
    name: str, data: MarketData, settings: BacktestSettings, *, serve_engine: bool
) -> Engine:
    strategy = build(name)
    instruments = {s: default_instrument(b) for s, b in data.series.items()}
    config = SimConfig(
        taker_fee=settings.taker_fee,
        maker_fee=settings.maker_fee,
        funding_rate=settings.funding_rate,
        default_leverage=settings.leverage,
    )
    sim = MatchingEngine("backtest", instruments.values(), config=config, seed=0)
    for symbol, history in data.funding.items():  # the recorded rates, as the backtest charges
        sim.set_funding_history(symbol, history.as_map())
    clock = ReplayClock(int(data.timeline[0]))
    exchange = PaperExchange(sim, clock)
    gateway = QueueGateway()
    bot_id = f"{name}"[:16] + "_bt"
    engine = Engine(
        strategy,
        bot_id=bot_id,
        instruments=instruments,
        gateway=gateway,
        initial_cash=settings.initial_equity,
    )

    if serve_engine:  # the paper bot's wiring: fills labelled at the venue, no Filled update
        exchange.serve_engine(engine.fill_label)

    def deliver(event: SimEvent) -> None:
        if isinstance(event, Fill):
            engine.on_fill(event)
        elif isinstance(event, OrderUpdated):
            engine.on_order(event)

    venue = exchange.venue(bot_id, settings.initial_equity, deliver)

    async def flush_protection() -> None:
        while gateway.stops:
            request = gateway.stops.pop(0)
            if isinstance(request, TradingStopRequest):
                await venue.set_trading_stop(request)
            else:
                await venue.cancel(request)

    features = {s: LiveFeatures(strategy.indicators(), strategy.history) for s in data.series}
    engine.start(int(data.timeline[0]))
    for k, close_ms in enumerate(data.close_times.tolist()):
        closed = []
        for symbol in data.symbols:  # the venue sees each bar's prices, then the bar closes
            i = int(data.index[symbol][k])
            if i < 0:
                continue
            bar = data.series[symbol].bar(i)
            clock.set(bar.open_time_ms)
            queued = gateway.orders.pop(symbol, [])
            if queued:
                await exchange.on_price(symbol, to_decimal(bar.open))
                for request in queued:
                    try:
                        order = await venue.submit(request)
                    except InvalidField as exc:
                        engine.on_reject(request, f"venue refused: {exc}", bar.open_time_ms)
                        continue
                    engine.on_order(OrderUpdated(sim.venue, bot_id, order))
                    await flush_protection()
            await exchange.on_bar(bar)
            clock.set(bar.close_time_ms)
            engine.portfolio.mark(symbol, bar.close)
            closed.append((bar, features[symbol].update(bar)))
        for bar, row in closed:  # then the strategy decides on every closed bar
            engine.on_bar(bar, row)
            await flush_protection()
        engine.on_bars_closed(close_ms)
    return engine


@pytest.mark.parametrize("serve_engine", [False, True], ids=["plain", "served"])
@pytest.mark.parametrize(
    ("name", "files"),
    [
        ("ema_cross", ["BTCUSDT_5m_bybit-perp-20250924-20251122"]),
        (
            "shortseller",
            [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")],
        ),
    ],
)
async def test_backtest_and_paper_agree(
    name: str, files: list[str], serve_engine: bool, market_csv: Callable[[str], Path]
) -> None:
    """With or without the paper bot's lean wiring (:meth:`PaperExchange.serve_engine`): the
    same intents, fills (labels included) and equity as the backtest."""
    data = load([market_csv(f) for f in files], end_ms=END)
    settings = BacktestSettings(initial_equity=Decimal(10_000))
    backtest = run(build(name), data, settings)
    paper = await paper_run(name, data, settings, serve_engine=serve_engine)
    assert backtest.intents, "the period must produce decisions to compare"
    assert backtest.intents == paper.intents
    assert backtest.fills == paper.fills
    assert backtest.final_equity == paper.portfolio.equity
