"""Helpers shared by the bot tests: settings for one bot, the bundled candles, a backtest twin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from alphadesk.app.bot import Bot, BotOptions, BotRun
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.backtest.data import load
from alphadesk.backtest.runner import RunOutput, run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.secrets import Secret
from alphadesk.strategies import build

FILES = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
BOT_ID = "shortseller_001"


def settings(url: str, bots: Sequence[BotSettings] = ()) -> Settings:
    default = BotSettings(BOT_ID, "shortseller", "shortseller", Secret(""), Secret(""))
    return Settings(database_url=url, bots=tuple(bots) or (default,))


def paper_options(
    market_csv: Callable[[str], Path], state_dir: Path, **kwargs: object
) -> BotOptions:
    data = tuple(market_csv(f) for f in FILES)
    base = BotOptions(name="shortseller", mode="paper", state_dir=state_dir, data=data)
    return replace(base, **kwargs)  # type: ignore[arg-type]


async def run_bot(url: str, options: BotOptions) -> BotRun:
    return await Bot(settings(url), options).run()


def backtest(market_csv: Callable[[str], Path], steps: int) -> RunOutput:
    """The backtest over the same first ``steps`` timeline steps as a bounded paper run."""
    full = load([market_csv(f) for f in FILES])
    end = int(full.timeline[steps])
    data = load([market_csv(f) for f in FILES], end_ms=end)
    config = BacktestSettings(initial_equity=Decimal(10_000), bot_id=BOT_ID)
    return run(build("shortseller"), data, config)
