"""``alphadesk bot shortseller --mode paper`` over replayed candles: registration, heartbeat,
status, and the same intents and fills as a backtest over the same bars."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.app.bot import Bot
from alphadesk.app.cli import main
from alphadesk.domain.enums import ExecType
from alphadesk.domain.roundtrips import match

from .support import BOT_ID, backtest, paper_options, settings

STEPS = 4032  # two weeks of 5-minute bars: the period has entries and exits


async def test_paper_run_registers_beats_and_matches_the_backtest(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    options = paper_options(market_csv, tmp_path / "state", max_bars=STEPS, heartbeat_s=0.02)
    bot = Bot(settings(db_url), options)
    started = asyncio.Event()
    bot.on_started = lambda _run: started.set()
    task = asyncio.create_task(bot.run())
    bots = await open_bots(db_url)
    try:
        await asyncio.wait_for(started.wait(), 30)
        first = await bots.get(BOT_ID)
        assert first is not None
        assert (first.status, first.deployment_mode, first.strategy_name) == (
            "active",
            "paper",
            "shortseller",
        )
        assert first.last_heartbeat is not None
        run = await asyncio.wait_for(task, 60)
        last = await bots.get(BOT_ID)
    finally:
        await bots.close()
    assert last is not None and last.last_heartbeat is not None
    assert last.status == "stopped"
    assert last.last_heartbeat > first.last_heartbeat
    assert len(run.heartbeats) >= 2 and run.heartbeats == sorted(run.heartbeats)
    assert last.current_equity == run.engine.portfolio.equity

    twin = backtest(market_csv, STEPS)
    assert run.driver.stats.steps == STEPS
    assert twin.intents, "the period must produce decisions to compare"
    assert run.engine.intents == twin.intents
    assert run.engine.fills == [replace(f, venue="paper") for f in twin.fills]
    assert run.engine.portfolio.equity == twin.final_equity
    # both charged the recorded funding beside the candles, not the constant fallback
    assert all(s.startswith("history: ") for s in twin.funding_sources.values())
    assert any(f.exec_type is ExecType.FUNDING for f in run.engine.fills)

    # the paper bot's recorder keeps trading.completed_trades as its fills land
    trips = await open_round_trips(db_url)
    try:
        stored = await trips.list_round_trips(bot_id=BOT_ID)
    finally:
        await trips.close()
    fills = run.engine.fills
    expected = [t for symbol in sorted({f.symbol for f in fills})
                for t in match(BOT_ID, symbol, [f for f in fills if f.symbol == symbol])]
    assert expected, "the period must close round trips"
    assert sorted((t.trade_id, t.net_pnl) for t in stored) == sorted(
        (t.trade_id, t.net_pnl) for t in expected)


def test_cli_runs_a_bounded_paper_bot(
    market_csv: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: object,
    capsys: object,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = [
        "bot",
        "shortseller",
        "--mode",
        "paper",
        "--database-url",
        url,
        "--max-bars",
        "50",
        "--state-dir",
        str(tmp_path / "state"),
    ]
    for name in ("BTC", "ETH", "SOL"):
        args += ["--data", str(market_csv(f"{name}USDT_5m_bybit-perp-20250924-20251122"))]
    assert main(args) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"{BOT_ID}: 50 steps" in out


async def test_a_bot_keeps_its_live_status_and_heartbeat_in_redis(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path, redis_url: str,
    redis_prefix: str,
) -> None:
    """With REDIS_URL set, ``bot:{id}:status`` follows the bot (active, then stopped) and
    ``bot:{id}:heartbeat`` is the last beat, expiring by itself once the beats stop."""
    options = paper_options(market_csv, tmp_path / "state", max_bars=600, heartbeat_s=0.05,
                            redis_namespace=redis_prefix, pace_s=0.001)
    bot = Bot(replace(settings(db_url), redis_url=redis_url), options)
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        task = asyncio.create_task(bot.run())
        seen: set[str | None] = set()
        while not task.done():
            seen.add(await state.bots.get_status(BOT_ID))
            await asyncio.sleep(0.01)
        run = await task
        assert "active" in seen
        assert await state.bots.get_status(BOT_ID) == "stopped"
        beat = await state.bots.last_heartbeat(BOT_ID)
        last_beat = run.heartbeats[-1]  # the stop beats once more, after it
        assert beat is not None
        assert beat >= last_beat.replace(microsecond=last_beat.microsecond // 1000 * 1000)
        ttl_ms = await state.client.pttl(f"{redis_prefix}bot:{BOT_ID}:heartbeat")
        assert 0 < ttl_ms <= 1000
    finally:
        await state.aclose()
