"""``alphadesk demo --quick``: the backtest-style first look (the demo before issue 18).

It runs the desk's three strategies over the bundled real candles as backtests (the matching
engine the paper venue and the local Bybit simulator share), writes every fill through the one
fill entrance into the demo's ledger, and prints what each bot did, where the ledger is and what
it stored. Running it again stores nothing new: fills are keyed by (venue, account, exec_id), so
the second run shows exactly-once at work. Seconds instead of a minute, but no venue, listener,
sync or reconcile: ``alphadesk demo`` without ``--quick`` runs the platform.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.adapters.storage.urls import parse
from alphadesk.backtest import formatting as fmt
from alphadesk.backtest.data import for_strategy, load, pick_files
from alphadesk.backtest.report import to_html
from alphadesk.backtest.result import BacktestResult, summarize
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.data import market_files
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.strategies import build


@dataclass(frozen=True, slots=True)
class QuickBot:
    bot_id: str
    strategy: str
    data_pattern: str


#: The seed's three strategies on the bundled candles that match their timeframes, under bot ids
#: of their own (``-`` cannot be used: it separates the parts of an ``orderLinkId``).
QUICK_BOTS: tuple[QuickBot, ...] = (
    QuickBot("demo_shortseller", "shortseller", "*_5m_bybit-perp-*.csv"),
    QuickBot("demo_lxalgo", "lxalgo", "*_5m_bybit-perp-*.csv"),
    QuickBot("demo_momentum", "momentum", "*_4h_bybit-perp-*.csv"),
)


def _say(text: str = "") -> None:
    print(text, flush=True)


def run_quick(url: str, redis_url: str | None, namespace: str, report_dir: Path | None,
              data_dir: Path | None = None) -> int:
    """``data_dir``: candles from this folder (``alphadesk data``) instead of the bundled ones."""
    target = parse(url)
    applied = migrate.upgrade(url)
    _say(f"demo ledger: {target.redacted} (the demo's own, apart from the desk's; "
         f"migrations applied now: {len(applied)})")

    results: list[tuple[QuickBot, BacktestResult]] = []
    for bot in QUICK_BOTS:
        strategy = build(bot.strategy)
        if data_dir is not None:
            files = pick_files(data_dir, strategy.timeframe_min)
            if not files:
                print(f"demo: {data_dir} holds no candles for {bot.strategy}'s "
                      f"{strategy.timeframe_min}-minute timeframe or finer", file=sys.stderr)
                return 2
        else:
            files = market_files(bot.data_pattern)
        if not files:
            print(f"demo: no bundled candles match {bot.data_pattern}", file=sys.stderr)
            return 2
        data = for_strategy(load(files), strategy)
        charged = "recorded funding" if set(data.funding) >= set(data.symbols) else (
            "constant funding (no history for some symbols)")
        _say(
            f"running {bot.bot_id} ({bot.strategy}) over {data.bar_count:,} bars of "
            f"{', '.join(data.symbols)}, {charged} ..."
        )
        for note in data.notes:
            _say(f"  note: {note}")
        result = summarize(run(strategy, data, BacktestSettings(bot_id=bot.bot_id)))
        results.append((bot, result))
        if report_dir is not None:
            report_dir.mkdir(parents=True, exist_ok=True)
            (report_dir / f"{bot.bot_id}.html").write_text(to_html(result))

    stored = asyncio.run(_record(url, redis_url, namespace, results))
    _say()
    _say(f"{'bot':<16} {'trades':>6} {'win %':>6} {'net PnL':>12} {'fees':>10} {'max DD':>7}")
    for bot, result in results:
        m = result.metrics
        _say(
            f"{bot.bot_id:<16} {fmt.count(m.trades.count):>6} "
            f"{fmt.fraction_pct(m.trades.win_rate):>6} {fmt.money(m.net_pnl):>12} "
            f"{fmt.money(m.costs.fees):>10} {fmt.fraction_pct(m.drawdown.max_pct):>6}%"
        )
    _say()
    for line in stored:
        _say(line)
    if report_dir is not None:
        _say(f"reports: {report_dir}/<bot>.html")
    _say("try: alphadesk backtest --strategy ema_cross --data <csv> --report out.html")
    return 0


async def _record(
    url: str, redis_url: str | None, namespace: str, results: list[tuple[QuickBot, BacktestResult]]
) -> list[str]:
    """Record each bot's fills through the one fill entrance (ledger, then the bus and the live
    positions: in process here, Redis when a Redis URL is given); report what was new and what
    was known, and what the bus announced."""
    store = await open_store(url)
    state: MemoryState | RedisState = MemoryState()
    if redis_url:
        state = RedisState.from_url(redis_url, namespace=namespace)
    trips = await open_round_trips(url)
    try:
        writer = FillWriter(store)
        recorder = FillRecorder(
            writer, bus=state.bus, positions=state.positions, markets=state.market,
            alerts=state.bus, trades=RoundTripKeeper(store, trips),
        )  # fmt: skip
        lines = []
        for bot, result in results:
            outcome = await recorder.record(result.output.fills)
            positions = await writer.positions(
                [(bot.bot_id, s) for s in sorted({f.symbol for f in result.output.fills})]
            )
            open_ = [
                f"{symbol} {p.qty:+}" for (_, symbol), p in positions.items() if not p.is_flat
            ]
            lines.append(
                f"ledger {bot.bot_id}: {len(outcome.inserted)} fills stored, "
                f"{len(outcome.duplicates)} already there"
                + (f"; open: {', '.join(open_)}" if open_ else "; flat")
            )
        lines.append(f"bus: {recorder.stats.published} fills announced on events:fills")
        return lines
    finally:
        await trips.close()
        await state.aclose()
        await store.close()
