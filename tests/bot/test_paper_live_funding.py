"""A paper bot on live prices is charged Bybit's own funding rate at each settlement: the rate the
public tickers give for their ``nextFundingTime``, replaced by the public funding history's record
of the settled rate; the constant only where Bybit gave neither, and logged as the fallback.

Run against the local Bybit simulator replaying the bundled BTCUSDT candles, whose funding is the
real recorded 8-hourly history bundled beside them (its tickers and funding history serve it).
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk import simulator
from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.app.bot import Bot, BotOptions
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.intents import NotionalSize
from alphadesk.domain.secrets import Secret
from alphadesk.paper.live_funding import FALLBACK, HISTORY, TICKER, LiveFunding
from alphadesk.simulator.errors import RetCode
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies import specs as ind
from alphadesk.strategies.api import Row, Strategy, StrategyContext
from alphadesk.strategies.specs import IndicatorSpec

from .support import started_bot, until_step

BOT_ID = "dryfund_001"
HOUR = 3_600_000
START = 1_758_871_800_000  # 2025-09-26 07:30 UTC: six bars before the 08:00 settlement
SETTLE = START + HOUR // 2  # 2025-09-26 08:00 UTC
CANDLES = "BTCUSDT_5m_bybit-perp-20250924-20251122"
FUNDING = "BTCUSDT_8h_funding_bybit-perp-20250924-20260721"


@dataclass(frozen=True, slots=True)
class HoldParams:
    symbols: tuple[str, ...] = ("BTCUSDT",)


class BuyAndHold(Strategy[HoldParams]):
    """Buys 300 USDT of BTCUSDT on its first decision and holds it."""

    name = "bot_buy_and_hold"
    timeframe_min = 5
    params_type = HoldParams
    warmup_bars = 5

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {"ema": ind.ema(3)}

    def on_bar(self, ctx: StrategyContext, bar: Bar, row: Row) -> None:
        if ctx.portfolio.position(bar.symbol) is None and not ctx.portfolio.positions:
            ctx.enter(bar.symbol, Side.BUY, NotionalSize(usdt=Decimal(300)), "hold",
                      ref_price=to_decimal(bar.close))


def recorded(market_csv: Callable[[str], Path]) -> dict[int, Decimal]:
    with market_csv(FUNDING).open(newline="") as handle:
        return {int(r["ts_ms"]): Decimal(r["funding_rate"]) for r in csv.DictReader(handle)}


async def test_a_paper_bot_on_live_prices_pays_bybits_rate_at_the_settlement(
    market_csv: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="alphadesk.bot")
    monkeypatch.setitem(STRATEGIES, BuyAndHold.name, BuyAndHold)
    rate = recorded(market_csv)[SETTLE]
    assert rate == Decimal("0.00003018") and rate != Decimal("0.0001")  # not the constant
    async with simulator.run_simulator([market_csv(CANDLES)], [], start_ms=START) as sim:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
            bybit_base_url=sim.base_url,
            bots=(BotSettings(BOT_ID, BuyAndHold.name, "dryrun", Secret(""), Secret("")),),
        )
        options = BotOptions(name=BOT_ID, mode="paper", prices="live",
                             state_dir=tmp_path / "state", heartbeat_s=0.1, max_bars=8)
        task, run = await started_bot(Bot(settings, options))
        for _ in range(8):  # the bars closing 07:35 .. 08:10
            steps = run.driver.stats.steps
            sim.advance(1)
            await until_step(run, steps, task)
        await asyncio.wait_for(task, 20)
        requests = dict(sim.exchange.requests)

    [entry] = [f for f in run.engine.fills if f.exec_type is ExecType.TRADE]
    [paid] = [f for f in run.engine.fills if f.exec_type is ExecType.FUNDING]
    assert to_epoch_ms(entry.exec_time) == START + 5 * 60_000  # the 07:35 open
    assert to_epoch_ms(paid.exec_time) == SETTLE
    assert paid.qty == entry.qty and paid.fee == paid.qty * paid.price * rate
    said = caplog.text
    assert ("paper funding: BTCUSDT settles every 8 h (instrument); next 2025-09-26T08:00Z at "
            f"{rate} (Bybit tickers)") in said
    assert f"paper funding: BTCUSDT settlement 2025-09-26T08:00Z at {rate} (Bybit funding " \
        "history)" in said
    assert "fallback" not in said
    assert requests.get("/v5/market/tickers", 0) >= 1
    assert requests.get("/v5/market/funding/history", 0) >= 1


async def test_without_a_rate_from_bybit_the_constant_is_the_logged_fallback(
    market_csv: Callable[[str], Path], caplog: pytest.LogCaptureFixture,
) -> None:
    """The funding history refuses twice: the 08:00 settlement keeps the tickers' rate, the
    16:00 one (no ticker gave it) pays the constant, said in the log; once the history answers
    again, the next day's 00:00 settlement is Bybit's recorded rate."""
    caplog.set_level(logging.INFO, logger="alphadesk.bot")
    rates = recorded(market_csv)
    async with simulator.run_simulator([market_csv(CANDLES)], [], start_ms=START) as sim:
        config = AccountConfig.public("paper-prices", environment=Environment.LIVE,
                                      base_url=sim.base_url)
        client = await BybitClient.connect(config, trading=False)
        try:
            instruments = await client.market.instruments("BTCUSDT")
            engine = MatchingEngine("paper", instruments)
            live = LiveFunding(client, ["BTCUSDT"])
            await live.start(engine, START)
            sim.faults.fail_rest(count=2, ret_code=RetCode.PARAMS_ERROR,
                                 path="/v5/market/funding/history")
            await live.before_walk(engine, "BTCUSDT", SETTLE)
            await live.before_walk(engine, "BTCUSDT", SETTLE + 8 * HOUR)
            midnight = SETTLE + 16 * HOUR
            sim.advance_to(midnight + 300_000)
            await live.before_walk(engine, "BTCUSDT", midnight)
        finally:
            await client.close()
    assert engine.funding_interval_ms("BTCUSDT") == 8 * HOUR
    assert live.sources == {
        ("BTCUSDT", SETTLE): TICKER,
        ("BTCUSDT", SETTLE + 8 * HOUR): FALLBACK,
        ("BTCUSDT", midnight): HISTORY,
    }
    assert engine.funding_rate_at("BTCUSDT", SETTLE) == rates[SETTLE]
    assert engine.funding_rate_at("BTCUSDT", SETTLE + 8 * HOUR) == Decimal("0.0001")
    assert engine.funding_rate_at("BTCUSDT", midnight) == rates[midnight]
    assert ("paper funding: BTCUSDT settlement 2025-09-26T16:00Z charged the constant fallback "
            "0.0001: Bybit gave no rate for it") in caplog.text
