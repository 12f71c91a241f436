"""``alphadesk bot NAME --mode paper --prices live``: freqtrade's dry-run. Closed bars from the
public kline stream, the warm-up from the public REST klines, fills simulated by the paper venue
and recorded in the ledger; no key, and nothing private is ever asked for. Run against the local
Bybit simulator (``BYBIT_BASE_URL``), whose candles the test moves on bar by bar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk import simulator
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot, BotOptions
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.domain.bars import Bar, to_decimal
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import NotionalSize
from alphadesk.domain.secrets import Secret
from alphadesk.strategies import STRATEGIES
from alphadesk.strategies import specs as ind
from alphadesk.strategies.api import Row, Strategy, StrategyContext
from alphadesk.strategies.specs import IndicatorSpec

from .support import started_bot, until_step

BOT_ID = "dryrun_001"
SYMBOLS = ("BTCUSDT", "ETHUSDT")
STEPS = 6
PRIVATE = ("/v5/order", "/v5/position", "/v5/execution", "/v5/account", "/v5/user",
           "/v5/asset", "/v5/private")


@dataclass(frozen=True, slots=True)
class RoundTripParams:
    symbols: tuple[str, ...] = SYMBOLS


class RoundTrip(Strategy[RoundTripParams]):
    """Shorts each symbol on its first decision and buys it back two decisions later."""

    name = "bot_round_trip"
    timeframe_min = 5
    params_type = RoundTripParams
    warmup_bars = 20

    def __init__(self, params: RoundTripParams | None = None) -> None:
        super().__init__(params)
        self.seen: dict[str, int] = {}

    def indicators(self) -> Mapping[str, IndicatorSpec]:
        return {"ema": ind.ema(10)}

    def on_bar(self, ctx: StrategyContext, bar: Bar, row: Row) -> None:
        count = self.seen[bar.symbol] = self.seen.get(bar.symbol, 0) + 1
        if count == 1:
            price = to_decimal(bar.close)
            ctx.enter(bar.symbol, Side.SELL, NotionalSize(usdt=Decimal(300)), "probe",
                      ref_price=price)
        elif count == 3 and ctx.portfolio.position(bar.symbol) is not None:
            ctx.exit(bar.symbol, "probe_exit")


async def test_a_paper_bot_trades_on_live_public_prices_without_a_key(
    market_csv: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STRATEGIES, RoundTrip.name, RoundTrip)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    files = [market_csv(f"{s}_5m_bybit-perp-20250924-20251122") for s in SYMBOLS]
    async with simulator.run_simulator(files, [], history_bars=300) as sim:
        settings = Settings(
            database_url=url,
            bybit_base_url=sim.base_url,
            bots=(BotSettings(BOT_ID, RoundTrip.name, "dryrun", Secret(""), Secret("")),),
        )
        options = BotOptions(
            name=BOT_ID, mode="paper", prices="live", state_dir=tmp_path / "state",
            heartbeat_s=0.1, max_bars=STEPS,
        )  # fmt: skip
        task, run = await started_bot(Bot(settings, options))
        assert run.driver.stats.warmed == RoundTrip.warmup_bars * len(SYMBOLS)
        opens: list[int] = []
        for _ in range(STEPS):
            steps = run.driver.stats.steps
            opens.append(sim.now_ms)  # the forming bar's open: it closes with this advance
            sim.advance(1)
            await until_step(run, steps, task)
        await asyncio.wait_for(task, 20)
        requests = dict(sim.exchange.requests)

    assert run.driver.stats.steps == STEPS and not run.driver.stats.errors
    fills = run.engine.fills
    assert sorted((f.symbol, f.side) for f in fills) == sorted(
        [(s, Side.SELL) for s in SYMBOLS] + [(s, Side.BUY) for s in SYMBOLS]
    )
    assert all(f.venue == "paper" and f.bot_id == BOT_ID for f in fills)
    # decided at a bar's close, filled at the next bar's open (the bar times of the stream)
    entry_ms = {to_epoch_ms(f.exec_time) for f in fills if f.side is Side.SELL}
    exit_ms = {to_epoch_ms(f.exec_time) for f in fills if f.side is Side.BUY}
    assert entry_ms == {opens[1]} and exit_ms == {opens[3]}
    assert run.engine.portfolio.positions == {}

    store = await open_store(url)
    bots = await open_bots(url)
    try:
        recorded = await store.read_fills(bot_id=BOT_ID)
        row = await bots.get(BOT_ID)
    finally:
        await store.close()
        await bots.close()
    assert sorted(f.exec_id for f in recorded) == sorted(f.exec_id for f in fills)
    assert row is not None and (row.status, row.deployment_mode) == ("stopped", "paper")

    assert requests.get("/v5/public/linear", 0) >= 1
    assert requests.get("/v5/market/kline", 0) >= len(SYMBOLS)
    assert [p for p in requests if p.startswith(PRIVATE)] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (BotOptions(name=BOT_ID, mode="demo", prices="live"), "prices=live: for paper mode only"),
        (BotOptions(name=BOT_ID, prices="live", start_ms=0), "prices=live: --data and --from"),
        (BotOptions(name=BOT_ID, prices="recorded"), "prices='recorded': expected one of"),  # type: ignore[arg-type]
    ],
)
def test_live_prices_refuse_options_that_make_no_sense(options: BotOptions, message: str) -> None:
    settings = Settings(bots=(BotSettings(BOT_ID, "shortseller", "x", Secret(""), Secret("")),))
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Bot(settings, options)
