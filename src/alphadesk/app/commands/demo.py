"""``alphadesk demo``: the one-command first look, on embedded defaults only.

It runs the desk's three bots over the bundled real candles on the simulated venue (the matching
engine the paper venue and the local Bybit simulator share), writes every fill through the one
fill writer into the ledger named by ``DATABASE_URL`` (a SQLite file by default), and prints what
each bot did and what the ledger stored. Running it again stores nothing new: fills are keyed
by (venue, account, exec_id), so the second run shows exactly-once at work.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.urls import parse
from alphadesk.app import settings as desk_settings
from alphadesk.backtest.data import load
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import BacktestResult, summarize
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.data import market_files
from alphadesk.engine.ledger import FillWriter
from alphadesk.strategies import build


@dataclass(frozen=True, slots=True)
class DemoBot:
    bot_id: str
    strategy: str
    data_pattern: str


#: The seed's three bots on the bundled candles that match their timeframes.
DEMO_BOTS: tuple[DemoBot, ...] = (
    DemoBot("shortseller_001", "shortseller", "*_5m_bybit-perp-*.csv"),
    DemoBot("lxalgo_001", "lxalgo", "*_5m_bybit-perp-*.csv"),
    DemoBot("momentum_001", "momentum", "*_4h_bybit-perp-*.csv"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the three bots over bundled candles into the ledger; no keys, no servers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="ledger URL (default: $DATABASE_URL or SQLite)")
    parser.add_argument(
        "--report-dir", type=Path, help="also write one HTML report per bot into this folder"
    )
    parser.set_defaults(handler=handle)


def _money(value: Decimal) -> str:
    return f"{value:+,.2f}"


def _say(text: str = "") -> None:
    print(text, flush=True)


def handle(args: argparse.Namespace) -> int:
    config = desk_settings.load()
    url: str = args.database_url or config.database_url
    target = parse(url)
    applied = migrate.upgrade(url)
    _say(f"ledger: {target.redacted} (migrations applied now: {len(applied)})")

    results: list[tuple[DemoBot, BacktestResult]] = []
    for bot in DEMO_BOTS:
        files = market_files(bot.data_pattern)
        if not files:
            print(f"demo: no bundled candles match {bot.data_pattern}", file=sys.stderr)
            return 2
        data = load(files)
        strategy = build(bot.strategy)
        _say(
            f"running {bot.bot_id} ({bot.strategy}) over {data.bar_count:,} bars of "
            f"{', '.join(data.symbols)} ..."
        )
        result = summarize(run(strategy, data, BacktestSettings(bot_id=bot.bot_id)))
        results.append((bot, result))
        if args.report_dir is not None:
            args.report_dir.mkdir(parents=True, exist_ok=True)
            (args.report_dir / f"{bot.bot_id}.html").write_text(to_html(result))

    stored = asyncio.run(_record(url, results))
    _say()
    _say(f"{'bot':<16} {'trades':>6} {'win %':>6} {'net PnL':>12} {'fees':>10} {'max DD':>7}")
    for bot, result in results:
        m = result.metrics
        _say(
            f"{bot.bot_id:<16} {m.trades.count:>6} {m.trades.win_rate * 100:>6.1f} "
            f"{_money(m.net_pnl):>12} {m.costs.fees:>10,.2f} {m.drawdown.max_pct * 100:>6.1f}%"
        )
    _say()
    for line in stored:
        _say(line)
    if args.report_dir is not None:
        _say(f"reports: {args.report_dir}/<bot>.html")
    _say("try: alphadesk backtest --strategy ema_cross --data <csv> --report out.html")
    return 0


async def _record(url: str, results: list[tuple[DemoBot, BacktestResult]]) -> list[str]:
    """Write each bot's fills through the fill writer; report what was new and what was known."""
    store = await open_store(url)
    try:
        writer = FillWriter(store)
        lines = []
        for bot, result in results:
            outcome = await writer.write(result.output.fills)
            positions = await writer.positions(
                [(bot.bot_id, s) for s in sorted({f.symbol for f in result.output.fills})]
            )
            open_ = [
                f"{symbol} {p.qty:+}" for (_, symbol), p in positions.items() if not p.is_flat
            ]
            lines.append(
                f"ledger {bot.bot_id}: {outcome.inserted_count} fills stored, "
                f"{outcome.duplicate_count} already there"
                + (f"; open: {', '.join(open_)}" if open_ else "; flat")
            )
        return lines
    finally:
        await store.close()
