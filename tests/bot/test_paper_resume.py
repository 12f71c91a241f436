"""A paper bot on replayed candles resumes after the last bar it processed instead of trading
the same period again (issue 12 item 2b), with the book, the equity and the indicators it left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot, BotRun
from alphadesk.backtest.data import load
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.paper.resume import PaperResume, first_step
from alphadesk.strategies import build

from .support import BOT_ID, FILES, paper_options, settings

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


async def _run(url: str, options: object) -> tuple[BotRun, dict[str, object]]:
    """Run a bot; also return what it looked like when it started trading."""
    bot = Bot(settings(url), options)  # type: ignore[arg-type]
    seen: dict[str, object] = {}

    def started(run: BotRun) -> None:
        venue = run.driver.venue
        wallet = venue.exchange.engine.wallet(venue.account)  # type: ignore[attr-defined]
        seen.update(
            start_ms=run.engine.ctx.now_ms,
            cash=run.engine.portfolio.cash,
            initial=run.engine.portfolio.initial_cash,
            wallet=wallet.wallet_balance,
        )

    bot.on_started = started
    return await bot.run(), seen


async def _ledger(url: str) -> list[Fill]:
    store = await open_store(url)
    try:
        return await store.read_fills(bot_id=BOT_ID)
    finally:
        await store.close()


def test_first_step_resumes_after_the_last_bar_and_the_newest_fill() -> None:
    timeline = [0, 300_000, 600_000, 900_000]
    assert first_step(timeline) == 0
    assert first_step(timeline, from_ms=300_000) == 1
    assert first_step(timeline, last_close_ms=600_000) == 2  # the bar 300_000..600_000 was done
    assert first_step(timeline, from_ms=0, last_close_ms=600_000) == 2  # never trades it again
    assert first_step(timeline, newest_fill_ms=300_000) == 2  # a fill at a bar's open: its bar
    assert first_step(timeline, newest_fill_ms=450_000) == 2
    assert first_step(timeline, last_close_ms=300_000, newest_fill_ms=650_000) == 3
    assert first_step(timeline, last_close_ms=1_200_000) == 4  # nothing left


async def test_a_restart_resumes_after_the_last_bar_with_its_equity(
    db_url: str, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first, _ = await _run(db_url, paper_options(market_csv, state, max_bars=2500))
    assert first.engine.fills, "the first run must trade for the equity to move"
    last_close = first.driver.stats.last_close_ms
    assert PaperResume(state / f"{BOT_ID}.paper-resume.json").last_close_ms() == last_close

    # --capital is for a new bot: the restarted one keeps its capital and the ledger's PnL
    options = paper_options(market_csv, state, max_bars=300, initial_capital=Decimal(5000))
    second, seen = await _run(db_url, options)
    assert seen["start_ms"] == last_close  # carries on at the next bar
    assert second.driver.stats.steps == 300
    assert seen["initial"] == Decimal(10_000)
    assert seen["cash"] == first.engine.portfolio.cash != Decimal(10_000)
    times = [to_epoch_ms(f.exec_time) for f in second.engine.fills]
    assert all(t >= last_close for t in times)

    recorded = await _ledger(db_url)
    assert len(recorded) == len(first.engine.fills) + len(second.engine.fills)
    assert len({f.exec_id for f in recorded}) == len(recorded)

    # without the resume file (a lost state folder), the ledger's newest fill bounds the start
    (state / f"{BOT_ID}.paper-resume.json").unlink()
    newest = max(to_epoch_ms(f.exec_time) for f in recorded)
    third, seen = await _run(db_url, paper_options(market_csv, state, max_bars=0))
    assert int(str(seen["start_ms"])) > newest
    assert third.engine.fills == []


async def test_two_runs_over_the_bundled_candles_trade_like_one(
    market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    """Stopped and restarted halfway, the bot leaves the fills of one uninterrupted run: same
    count, same bar times, same sizes (the equity went on), nothing traded twice.

    The stop is at a UTC midnight while flat and out of the entry cooldown: the strategy keeps
    its day's cross count and the cooldown of a closed position in memory only (a restart rebuilds
    cooldowns from open positions alone), so that is where a restart cannot change a decision."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    files = [market_csv(f) for f in FILES]
    data = load(files)
    config = BacktestSettings(initial_equity=Decimal(10_000), bot_id=BOT_ID)
    whole = run(build("shortseller"), data, config)
    timeline = data.timeline.tolist()
    fill_ms = sorted(to_epoch_ms(f.exec_time) for f in whole.fills)

    def quiet_midnight(k: int) -> bool:
        t = int(timeline[k])
        if t % DAY_MS or not fill_ms:
            return False
        before = [f for f in whole.fills if f.moves_position and to_epoch_ms(f.exec_time) < t]
        held: dict[str, Decimal] = {}
        for f in before:
            held[f.symbol] = held.get(f.symbol, Decimal(0)) + f.signed_qty
        recent = any(t - HOUR_MS <= ms < t for ms in fill_ms)
        return not recent and not any(held.values())

    middle = len(timeline) // 2
    stop = next(k for k in range(middle, len(timeline)) if quiet_midnight(k))

    state = tmp_path / "state"
    options = paper_options(market_csv, state, max_bars=stop)
    first, _ = await _run(url, options)
    second, seen = await _run(url, replace(options, max_bars=None))
    assert seen["start_ms"] == timeline[stop]
    assert seen["wallet"] == seen["cash"]  # the venue's wallet continues too
    assert first.driver.stats.steps + second.driver.stats.steps == len(timeline)

    def shown(fills: list[Fill]) -> list[tuple[object, ...]]:
        return sorted((f.exec_time, f.symbol, f.side, f.qty, f.close_reason) for f in fills)

    recorded = await _ledger(url)
    assert len(recorded) == len(whole.fills)
    assert shown(recorded) == shown(whole.fills)
    assert second.engine.portfolio.equity == whole.final_equity
