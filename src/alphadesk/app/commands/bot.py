"""``alphadesk bot NAME``: run one bot (paper, demo, testnet or live) from configuration.

NAME is a configured bot id (``shortseller_001``) or its strategy (``shortseller``). The mode
defaults to paper; ``--mode demo``/``testnet``/``live`` trade on Bybit with the bot's own key
(``<PREFIX>_BYBIT_API_KEY``/``_SECRET``). Paper replays candle files by default (a restart
resumes after the last bar it processed); ``--prices live`` paper-trades Bybit's live public
closed bars instead (no key; ``BYBIT_BASE_URL``/``--base-url`` may point at a simulator).
The bot registers in ``trading.bots``, beats its heartbeat, rebuilds its book from the ledger on
restart, and never closes a position because it stops: Ctrl-C leaves every position and its
venue-side stops as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphadesk.adapters.bybit.config import check_base_url
from alphadesk.app import observability
from alphadesk.app import settings as desk_settings
from alphadesk.app.bot import MODES, PRICES, Bot, BotOptions, BotRun
from alphadesk.app.commands import checks
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import STRATEGIES, build
from alphadesk.strategies.catalog import parse_overrides, resolve

if TYPE_CHECKING:  # loads aiohttp and prometheus_client: only when a page is served
    from alphadesk.adapters.metrics import DeskMetrics


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "bot",
        help="run one bot: paper on replayed candles, or Bybit demo/testnet/live",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", help="bot id or strategy name, e.g. shortseller")
    parser.add_argument("--mode", choices=MODES, default=None,
                        help="default: the bot's mode in ALPHADESK_CONFIG ([bots.<name>] "
                             "mode = ...), else paper")
    parser.add_argument(
        "--prices",
        choices=PRICES,
        help="paper: replay candle files (default) or live = Bybit's public closed bars "
        "with simulated fills (no key needed)",
    )
    parser.add_argument("--database-url", help="ledger URL (default: $DATABASE_URL or SQLite)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("state"),
        help="where the kill switch, paper stops and paper resume point are kept "
        "(default ./state)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        help="paper: a candle CSV to replay (repeatable; default: bundled)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=checks.time_ms,
        help="paper: first bar to trade (earlier bars warm the indicators up)",
    )
    parser.add_argument("--max-bars", type=int, help="stop after this many closed-bar steps")
    parser.add_argument(
        "--capital",
        type=Decimal,
        default=Decimal(10_000),
        help="paper: starting balance in USDT of a new bot (default 10000; a restarted bot "
        "keeps the capital it was registered with)",
    )
    parser.add_argument("--heartbeat", type=float, default=5.0, help="seconds between beats")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="paper: seconds between replayed bars (default: no wait)",
    )
    parser.add_argument("--warmup-bars", type=int, help="override the strategy's warmup_bars")
    parser.add_argument("--base-url", help="Bybit REST/WS base URL (a local simulator)")
    parser.add_argument("--namespace", default="",
                        help="Redis key namespace for bot:{id}:status|heartbeat "
                             "(default: none, the seed's key names)")
    parser.add_argument(
        "--param",
        type=checks.param,
        action="append",
        default=[],
        help="strategy parameter override key=value (repeatable)",
    )
    observability.add_flag(parser)
    parser.set_defaults(handler=handle)


def _strategy_params(name: str, raw: list[tuple[str, str]]) -> dict[str, Any]:
    """``--param`` strings as the named strategy's field types."""
    return parse_overrides(resolve(name, STRATEGIES), raw)


def _check_args(args: argparse.Namespace, settings: desk_settings.Settings) -> str:
    """The flags and the bot's configuration, before the ledger or a venue is touched; returns
    the ledger URL, checked to open."""
    bot_settings = settings.bot(args.name)
    checks.input_files("--data", args.data)
    checks.output_folder("--state-dir", args.state_dir)
    checks.positive("--max-bars", args.max_bars)
    checks.positive("--capital", args.capital)
    checks.positive("--heartbeat", args.heartbeat)
    checks.positive("--pace", args.pace, zero_ok=True)
    checks.positive("--warmup-bars", args.warmup_bars, zero_ok=True)
    if args.base_url:
        try:
            check_base_url("--base-url", args.base_url)
        except InvalidField as exc:
            raise desk_settings.SettingsError(str(exc)) from None
    if args.mode != "paper" and not bot_settings.has_credentials:
        prefix = bot_settings.strategy.upper()
        raise desk_settings.SettingsError(
            f"--mode {args.mode}: bot {bot_settings.bot_id} has no API key (set "
            f"{prefix}_BYBIT_API_KEY and {prefix}_BYBIT_API_SECRET)"
        )
    params = {**dict(bot_settings.params), **_strategy_params(bot_settings.strategy, args.param)}
    strategy = build(bot_settings.strategy, **params)  # refuses an unknown or bad --param now
    if args.mode != "paper" and not strategy.symbols:
        raise desk_settings.SettingsError(
            f"--mode {args.mode}: {strategy.name} trades no symbols; set symbols in "
            f"[bots.{bot_settings.strategy}] or --param symbols=BTCUSDT,ETHUSDT"
        )
    checks.redis(settings)
    return checks.database(args.database_url, "--database-url", settings)


def handle(args: argparse.Namespace) -> int:
    settings = desk_settings.load()
    bot_settings = settings.bot(args.name)
    if args.mode is None:
        args.mode = bot_settings.extras.mode or "paper"
    database_url = _check_args(args, settings)
    if args.prices is not None and args.mode != "paper":
        raise ValueError(f"--prices {args.prices}: for --mode paper only (not {args.mode})")
    options = BotOptions(
        name=args.name,
        mode=args.mode,
        prices=args.prices or "replay",
        database_url=database_url,
        state_dir=args.state_dir,
        data=tuple(args.data),
        start_ms=args.start,
        max_bars=args.max_bars,
        initial_capital=args.capital,
        heartbeat_s=args.heartbeat,
        pace_s=args.pace,
        warmup_bars=args.warmup_bars,
        base_url=args.base_url,
        redis_namespace=args.namespace,
        params=_strategy_params(bot_settings.strategy, args.param),
    )
    bot = Bot(settings, options)
    observability.port(args, settings)  # a bad --metrics-port stops it before any work
    run = asyncio.run(_main(bot, args, settings))
    engine = run.engine
    positions = (
        ", ".join(f"{s} {p.qty:+}" for s, p in sorted(engine.portfolio.positions.items())) or "flat"
    )
    print(
        f"{run.bot_id}: {run.driver.stats.steps} steps, {len(engine.intents)} intents, "
        f"{len(engine.fills)} fills, state {engine.risk.state.value}, equity "
        f"{engine.portfolio.equity:,.2f}; open: {positions} (left open)",
        flush=True,
    )
    return 0


async def _main(bot: Bot, args: argparse.Namespace | None = None,
                settings: desk_settings.Settings | None = None) -> BotRun:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, bot.stop)
    if args is None or settings is None or observability.port(args, settings) is None:
        return await bot.run()
    async with observability.serving(bot_metrics(bot), args, settings):
        return await bot.run()


def bot_metrics(bot: Bot) -> DeskMetrics:
    """A bot's page: its equity, PnL, kill-switch state and open positions once it runs, and
    (paper) the fills it recorded."""
    from alphadesk.adapters.metrics import BotSnapshot, DeskMetrics
    from alphadesk.engine.ingest_stats import IngestStats

    def snapshot() -> BotSnapshot | None:
        run = bot.run_info
        if run is None:
            return None
        book = run.engine.portfolio
        equity = book.equity
        return BotSnapshot(run.bot_id, equity, book.realized, equity - book.cash,
                           run.engine.risk.state, len(book.positions))

    idle = IngestStats()
    metrics = DeskMetrics("bot")
    metrics.observe_bot(snapshot)
    if bot.options.mode == "paper":  # it records its own fills
        metrics.observe_ingest(lambda: bot.recorder.stats if bot.recorder is not None else idle,
                               lambda: bot.recorder.spooled if bot.recorder is not None else 0)
    else:  # the listener records them; the bot's own REST calls and waits are shown
        from alphadesk.adapters.bybit.rest import RestStats

        none = RestStats()
        metrics.observe_rest({bot.bot_id: lambda: bot.client.rest.stats
                              if bot.client is not None else none})
    return metrics
