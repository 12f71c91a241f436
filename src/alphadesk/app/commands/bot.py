"""``alphadesk bot NAME``: run one bot (paper, demo, testnet or live) from configuration.

NAME is a configured bot id (``shortseller_001``) or its strategy (``shortseller``). The mode
defaults to paper; ``--mode demo``/``testnet``/``live`` trade on Bybit with the bot's own key
(``<PREFIX>_BYBIT_API_KEY``/``_SECRET``). The bot registers in ``trading.bots``, beats its
heartbeat, rebuilds its book from the ledger on restart, and never closes a position because it
stops: Ctrl-C leaves every position and its venue-side stops as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from decimal import Decimal
from pathlib import Path

from alphadesk.app import logging as desk_logging
from alphadesk.app import settings as desk_settings
from alphadesk.app.bot import MODES, Bot, BotOptions, BotRun
from alphadesk.app.commands.backtest import _coerce_params, _param, _time_ms


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "bot",
        help="run one bot: paper on replayed candles, or Bybit demo/testnet/live",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", help="bot id or strategy name, e.g. shortseller")
    parser.add_argument("--mode", choices=MODES, default="paper")
    parser.add_argument("--database-url", help="ledger URL (default: $DATABASE_URL or SQLite)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("state"),
        help="where the kill-switch state is kept (default ./state)",
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
        type=_time_ms,
        help="paper: first bar to trade (earlier bars warm the indicators up)",
    )
    parser.add_argument("--max-bars", type=int, help="stop after this many closed-bar steps")
    parser.add_argument(
        "--capital",
        type=Decimal,
        default=Decimal(10_000),
        help="paper: starting balance in USDT (default 10000)",
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
        type=_param,
        action="append",
        default=[],
        help="strategy parameter override key=value (repeatable)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = desk_settings.load()
    bot_settings = settings.bot(args.name)
    desk_logging.configure(settings.log_level, [bot_settings.api_key, bot_settings.api_secret])
    options = BotOptions(
        name=args.name,
        mode=args.mode,
        database_url=args.database_url,
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
        params=_coerce_params(bot_settings.strategy, args.param),
    )
    bot = Bot(settings, options)
    run = asyncio.run(_main(bot))
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


async def _main(bot: Bot) -> BotRun:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, bot.stop)
    return await bot.run()
