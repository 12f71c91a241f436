"""The dashboard in a real Chromium (Debian's ``chromium``, driven by Playwright): log in, see the
overview, watch a fill recorded through the real FillRecorder appear live, halt a bot and see its
state change, open the bot page and a backtest report; no console errors. Screenshots go to
``$ALPHADESK_ARTEFACTS`` (a temporary folder when unset; its path is printed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from alphadesk.adapters.storage.round_trips import open_round_trips
from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.bot import Bot
from alphadesk.app.cli import main
from alphadesk.domain.bars import Bar
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from alphadesk.engine.round_trips import RoundTripKeeper
from alphadesk.testing.builders import T0, make_fill
from bot.support import BOT_ID, paper_options
from bot.support import settings as bot_settings
from control.control_support import SS, control_over, seed
from harness.services import skipping_allowed

from .conftest import Desk
from .web_support import ADMIN_PW, VIEWER_PW, serve, web_env

CHROMIUM = os.environ.get("ALPHADESK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
CANDLES = "BTCUSDT_5m_bybit-perp-20250924-20251122"



@pytest.fixture(autouse=True)
def chromium_installed() -> None:
    """Like a missing service: fails, unless skipping is allowed (scripts/test installs it)."""
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
        if skipping_allowed():
            pytest.skip(message)
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def artefacts() -> Path:
    where = os.environ.get("ALPHADESK_ARTEFACTS") or tempfile.mkdtemp(prefix="alphadesk-web-")
    folder = Path(where)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nweb browser test screenshots: {folder}")
    return folder


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


def backtest_folder(tmp_path: Path, market_csv: Callable[[str], Path]) -> Path:
    """A real backtest run's HTML report and JSON result, and a second result to compare."""
    folder = tmp_path / "backtests"
    folder.mkdir()
    for fast, slow in ((20, 50), (10, 30)):
        name = f"ema_{fast}_{slow}"
        assert main(["backtest", "--strategy", "ema_cross", "--data", str(market_csv(CANDLES)),
                     "--from", "2025-10-01", "--to", "2025-10-04", "--param", f"fast={fast}",
                     "--param", f"slow={slow}", "--json", str(folder / f"{name}.json"),
                     "--report", str(folder / f"{name}.html")]) == 0  # fmt: skip
    return folder


async def test_the_desk_in_a_browser(
    desk: Desk, browser: Browser, artefacts: Path, tmp_path: Path,
    market_csv: Callable[[str], Path],
) -> None:  # fmt: skip
    await seed(desk.url)
    # the listener's closed bars: the bot page's price line for BTCUSDT (hourly, from T0)
    hour = 3_600_000
    await desk.state.bus.bars.publish([
        Bar("BTCUSDT", 60, to_epoch_ms(T0) + i * hour, 100.0 + i, 101.0 + i, 99.0 + i,
            100.5 + i, 10.0)
        for i in range(6)
    ])  # fmt: skip
    folder = await asyncio.to_thread(backtest_folder, tmp_path, market_csv)
    shots = artefacts / desk.backend
    shots.mkdir(exist_ok=True)
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    async with (
        control_over(desk.url, desk.state, clock=lambda: datetime.now(UTC)) as control,
        serve(control, desk.state.bus, web_env(folder)) as base,
    ):
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page: Page = await context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

        # log in (the overview sends us to the login page first)
        await page.goto(base + "/")
        assert "/login" in page.url
        await page.screenshot(path=str(shots / "0-login.png"))
        await page.fill("input[name=username]", "admin")
        await page.fill("input[name=password]", ADMIN_PW)
        await page.click("button[type=submit]")
        try:
            await page.wait_for_selector(f"#bot-{SS}", timeout=10_000)
        except Exception:
            await page.screenshot(path=str(shots / "0-failed-login.png"), full_page=True)
            raise AssertionError(f"no overview at {page.url}: {problems}") from None
        await page.wait_for_selector("#live.on")
        assert await page.text_content(f"#bot-{SS} .trading-state") == "ACTIVE"
        assert "15,024.50" in (await page.text_content("#card-equity") or "")
        assert "BTCUSDT" in (await page.text_content("#positions") or "")
        await page.wait_for_selector("#desk-curve canvas")
        await page.screenshot(path=str(shots / "1-overview.png"), full_page=True)

        # a fill recorded through the one entrance shows up live, without a reload
        store = await open_store(desk.url)
        trips = await open_round_trips(desk.url)
        try:
            recorder = FillRecorder(FillWriter(store), bus=desk.state.bus,
                                    positions=desk.state.positions, markets=desk.state.market,
                                    trades=RoundTripKeeper(store, trips))  # fmt: skip
            fill = make_fill("Buy", "0.5", "105", "0.02", bot_id=SS, account="shortseller",
                             exec_id="web-live-1",
                             seconds=(datetime.now(UTC) - T0).total_seconds())  # fmt: skip
            loads = await page.evaluate("performance.getEntriesByType('navigation').length")
            started = time.monotonic()
            result = await recorder.record([fill])
            assert len(result.inserted) == 1
            await page.wait_for_selector("#fill-web-live-1", timeout=2000)
            seen_after = time.monotonic() - started
        finally:
            await trips.close()
            await store.close()
        assert await page.evaluate("performance.getEntriesByType('navigation').length") == loads
        print(f"fill on the page {seen_after * 1000:.0f} ms after FillRecorder.record was called")
        # the bought-back short leaves the open-position count at 0 in the next snapshot
        await expect(page.locator(f"#bot-{SS} td:nth-child(10)")).to_have_text("0")
        await page.screenshot(path=str(shots / "2-live-fill.png"), full_page=True)

        # halt a bot that is not running: published and audited; it applies it when it starts
        # (test_halt_a_running_bot shows a running bot applying it)
        await page.click(f"#bot-{SS} button[data-cmd=halt]")
        await page.wait_for_selector("#toast:not(.hidden)")
        toast = await page.text_content("#toast") or ""
        assert "halt sent to " + SS in toast and "bot not running" in toast
        await page.screenshot(path=str(shots / "3-halt-sent.png"), full_page=True)

        # flatten asks first: cancelling sends nothing
        await page.click(f"#bot-{SS} button[data-cmd=flatten]")
        await page.wait_for_selector("#confirm-flatten[open]")
        await page.click("#confirm-flatten button[value=cancel]")
        assert [a.command for a in await control.audit_log(SS)] == ["halt"]

        # the bot page: charts, PnL tables, round trips, the audit row with who and when
        await page.click(f"#bot-{SS} a")
        await page.wait_for_selector("#equity-chart canvas")
        await page.wait_for_selector("#dd-chart canvas")
        await page.wait_for_selector("#price-chart canvas")
        symbols = await page.eval_on_selector_all("#symbol option", "o => o.map(x => x.value)")
        assert symbols == ["BTCUSDT", "ETHUSDT"]
        await page.wait_for_selector('#price-chart[data-bars="6"] canvas')  # the close line
        labels = await page.eval_on_selector_all("#price-chart .u-legend .u-label",
                                                 "l => l.map(x => x.textContent)")  # fmt: skip
        assert labels[1:] == ["close", "entry", "exit"], labels
        await expect(page.locator("#trips tbody tr")).to_have_count(3)  # 2 seeded + the live one
        assert "round trips" in (await page.text_content("#page") or "")
        audit_text = await page.text_content("#audit tbody") or ""
        assert "web:admin" in audit_text and "published" in audit_text
        await page.click("#controls button[data-cmd=reconcile]")
        reconcile = page.locator("#reconcile-out")
        await expect(reconcile).to_contain_text("reconcile needs a bot with an API key")
        await page.screenshot(path=str(shots / "4-bot.png"), full_page=True)

        # backtests: open a real report, then compare two results
        await page.goto(base + "/backtests")
        await page.wait_for_selector("#files a.open")
        await page.screenshot(path=str(shots / "5-backtests.png"), full_page=True)
        async with context.expect_page() as opened:
            await page.click("a.open[href$='ema_20_50.html']")
        report = await opened.value
        await report.wait_for_load_state()
        assert "<svg" in await report.content()
        await report.screenshot(path=str(shots / "5-report.png"))
        await report.close()
        for box in await page.query_selector_all("input[type=checkbox]"):
            await box.check()
        await page.click("#compare")
        await page.wait_for_selector("#cmp-chart canvas")
        assert "final_equity" in (await page.text_content("#cmp") or "")
        await page.screenshot(path=str(shots / "6-compare.png"), full_page=True)
        await context.close()

        # a viewer sees the desk but no controls
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        await page.goto(base + "/login")
        await page.fill("input[name=username]", "viewer")
        await page.fill("input[name=password]", VIEWER_PW)
        await page.click("button[type=submit]")
        await page.wait_for_selector(f"#bot-{SS}")
        assert await page.text_content("#who") == "viewer (viewer)"
        assert not await page.is_visible(f"#bot-{SS} button[data-cmd=halt]")
        await page.screenshot(path=str(shots / "7-viewer.png"), full_page=True)
        await context.close()
    assert problems == []


async def test_halt_a_running_bot(
    desk: Desk, browser: Browser, artefacts: Path, tmp_path: Path,
    market_csv: Callable[[str], Path],
) -> None:  # fmt: skip
    """A real paper bot (``alphadesk bot shortseller``'s code, paced replay) runs beside the
    dashboard; Halt on the page reaches it through ``commands:{bot_id}``, it applies the halt
    (REDUCING: no new positions) and the page shows it; Resume brings it back to ACTIVE."""
    shots = artefacts / desk.backend
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    config = replace(bot_settings(desk.url), redis_url=desk.redis_url)
    options = replace(paper_options(market_csv, tmp_path / "state", redis_namespace=desk.namespace),
                      pace_s=0.05, heartbeat_s=0.5)  # fmt: skip
    shared = desk.state if desk.redis_url is None else None
    bot = asyncio.create_task(Bot(config, options, state=shared).run())
    try:
        async with (
            control_over(desk.url, desk.state, clock=lambda: datetime.now(UTC)) as control,
            serve(control, desk.state.bus, web_env(tmp_path)) as base,
        ):
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            page = await context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
            await page.goto(base + "/login")
            await page.fill("input[name=username]", "admin")
            await page.fill("input[name=password]", ADMIN_PW)
            await page.click("button[type=submit]")
            state = page.locator(f"#bot-{BOT_ID} .trading-state")
            await expect(state).to_have_text("ACTIVE", timeout=30_000)
            await page.click(f"#bot-{BOT_ID} button[data-cmd=halt]")
            await expect(state).to_have_text("REDUCING", timeout=30_000)
            await expect(page.locator(f"#bot-{BOT_ID} .status")).to_have_text("reducing")
            await page.screenshot(path=str(shots / "8-running-bot-halted.png"), full_page=True)
            (line,) = await control.audit_log(BOT_ID)
            assert (line.command, line.actor, line.outcome) == (
                "halt", "web:admin", "applied: reducing",
            )  # fmt: skip
            await page.click(f"#bot-{BOT_ID} button[data-cmd=resume]")
            await expect(state).to_have_text("ACTIVE", timeout=30_000)

            # flatten only after the bot's name is typed; the bot applies it itself
            await page.click(f"#bot-{BOT_ID} button[data-cmd=flatten]")
            await page.fill("#flatten-confirm", BOT_ID)
            await page.click("#flatten-go")
            await expect(state).to_have_text("REDUCING", timeout=30_000)
            commands = [(a.command, a.outcome) for a in await control.audit_log(BOT_ID)]
            assert commands[0][0] == "flatten" and commands[1:] == [
                ("resume", "applied: active"), ("halt", "applied: reducing"),
            ]  # fmt: skip
            await context.close()
        assert not bot.done(), "the bot stopped before the end of the test"
    finally:
        bot.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bot
    assert problems == []
