"""Who trades in ``alphadesk demo`` and with what: the three bots, their accounts and settings.

The seed's three strategies on the markets of their timeframes, one simulator account (one API
key, like one Bybit sub-account) per bot, and the desk settings the bots are built from, as a
configured desk's would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk import simulator
from alphadesk.adapters.bybit import Secret
from alphadesk.app.demo.market import MarketSpec
from alphadesk.app.settings import BotSettings, Settings
from alphadesk.simulator import RateLimits, SimAccount
from alphadesk.simulator.candles import CandleSeries

INITIAL_BALANCE = Decimal(10_000)
#: Far above what three bots ask in a replayed second: Bybit's 10 orders/s per key is a limit in
#: real seconds, and a replayed second holds hours of the market.
DEMO_RATE_LIMITS = RateLimits(
    groups={p: simulator.LimitGroup(p, 10_000) for p in ("/v5/order/create", "/v5/order/amend",
                                                          "/v5/order/cancel",
                                                          "/v5/order/cancel-all")},
    other_per_second=10_000,
)


@dataclass(frozen=True, slots=True)
class DemoBot:
    bot_id: str
    strategy: str
    market: str
    """Which simulator it trades on (``5m`` or ``4h``)."""


#: The seed's three strategies on the markets of their timeframes, under bot ids of their own
#: (``-`` cannot be used: it separates the parts of an ``orderLinkId``).
DEMO_BOTS: tuple[DemoBot, ...] = (
    DemoBot("demo_shortseller", "shortseller", "5m"),
    DemoBot("demo_lxalgo", "lxalgo", "5m"),
    DemoBot("demo_momentum", "momentum", "4h"),
)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    database_url: str
    work_dir: Path
    """The bots' state files, the listener's spool, watermarks and health file."""
    redis_url: str | None = None
    namespace: str = ""
    days: float | None = None
    """Simulated days to replay from the start; None replays every bundled candle."""
    seed: int = 0
    heartbeat_s: float = 1.0


def demo_settings(config: DemoConfig, keys: dict[str, SimAccount],
                  loaded: Sequence[tuple[MarketSpec, Sequence[CandleSeries]]]) -> Settings:
    symbols = {spec.name: tuple(sorted(s.symbol for s in series)) for spec, series in loaded}
    params: dict[str, dict[str, Any]] = {
        "lxalgo": {"symbols": symbols["5m"]},  # the seed's universe: what the venue lists
        "momentum": {"symbols": symbols["4h"]},
    }
    bots = tuple(
        BotSettings(b.bot_id, b.strategy, b.bot_id, Secret(keys[b.bot_id].key),
                    Secret(keys[b.bot_id].secret), params.get(b.strategy, {}))
        for b in DEMO_BOTS
    )  # fmt: skip
    return Settings(database_url=config.database_url, redis_url=config.redis_url,
                    bybit_environment="demo", bots=bots)  # fmt: skip


def demo_accounts(seed: int) -> dict[str, SimAccount]:
    """One simulator account (one API key, like one Bybit sub-account) per bot."""
    return {
        b.bot_id: SimAccount(f"DEMO{i}{seed % 10_000:04d}KEY",
                             f"demo-secret-{i}-{seed:x}-0123456789", name=b.bot_id,
                             balance=INITIAL_BALANCE)
        for i, b in enumerate(DEMO_BOTS)
    }  # fmt: skip
