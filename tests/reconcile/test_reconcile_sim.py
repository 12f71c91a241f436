"""``alphadesk reconcile`` against the local Bybit simulator over real sockets, on a SQLite ledger:
a fill deleted from the ledger is found, ``--repair`` records it again through the entrance and a
second reconcile is clean; a position the ledger cannot explain puts the bot into REDUCING with an
alert. The command runs in a thread (its own event loop) while the simulator serves in the test's.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, RetryPolicy, Secret
from alphadesk.adapters.storage import migrate
from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.sqlite import SqliteLedger
from alphadesk.app import cli
from alphadesk.domain import order_link
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.fills import Fill
from alphadesk.domain.requests import OrderRequest
from alphadesk.engine.bot_registry import BotRecord
from alphadesk.engine.ledger import FillWriter
from alphadesk.engine.recorder import FillRecorder
from alphadesk.simulator import SimAccount, run_simulator

BTC_5M = "BTCUSDT_5m_bybit-perp-20250924-20251122"
KEY, SECRET = "RECON001", "reconcile-secret-0123456789"
BOT = "shortseller_001"
FAST = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.2, max_resyncs=2)


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[Any]:
    account = SimAccount(KEY, SECRET, name="shortseller", balance=Decimal(1_000_000))
    async with run_simulator([market_csv(BTC_5M)], [account], history_bars=300) as running:
        yield running


@pytest_asyncio.fixture
async def trader(sim: Any) -> AsyncIterator[BybitClient]:
    config = AccountConfig("shortseller", KEY, Secret(SECRET), Environment.DEMO,
                           base_url=sim.base_url)
    client = BybitClient(config, policy=FAST)
    await client.rest.sync_clock()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def desk_env(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command's configuration: the shortseller key on the simulator, a SQLite ledger."""
    ledger = tmp_path / "ledger.db"
    for name in ("REDIS_URL", "ALPHADESK_CONFIG", "BYBIT_TESTNET", "LXALGO_BYBIT_API_KEY",
                 "LXALGO_BYBIT_API_SECRET", "MOMENTUM_BYBIT_API_KEY",
                 "MOMENTUM_BYBIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{ledger}")
    monkeypatch.setenv("SHORTSELLER_BYBIT_API_KEY", KEY)
    monkeypatch.setenv("SHORTSELLER_BYBIT_API_SECRET", SECRET)
    monkeypatch.setenv("BYBIT_DEMO", "true")
    monkeypatch.setenv("BYBIT_BASE_URL", sim.base_url)
    monkeypatch.setenv("COLUMNS", "250")
    migrate.upgrade(f"sqlite:///{ledger}")
    return ledger


async def market(client: BybitClient, side: Side, qty: str) -> None:
    await client.trading.create_order(OrderRequest(
        bot_id=BOT, symbol="BTCUSDT", side=side, qty=Decimal(qty),
        order_link_id=order_link.encode(BOT, order_link.Purpose.ENTRY),
        order_type=OrderType.MARKET,
    ))


def window(sim: Any) -> list[str]:
    """The simulator's clock is the replayed market's, not the wall clock: ask around it."""
    now = from_epoch_ms("sim.now", sim.now_ms)
    return ["--since", (now - timedelta(days=1)).isoformat(),
            "--until", (now + timedelta(days=1)).isoformat()]


async def venue_fills(sim: Any, client: BybitClient) -> list[Fill]:
    now = from_epoch_ms("sim.now", sim.now_ms)
    return await client.history.executions(now - timedelta(days=1), now + timedelta(days=1))


async def record(ledger: Path, fills: list[Fill]) -> None:
    store = await SqliteLedger.connect(ledger)
    try:
        await FillRecorder(FillWriter(store)).record(fills)
    finally:
        await store.close()


async def reconcile(
    sim: Any, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    argv = ["reconcile", "--bot", "shortseller", *window(sim), *args]
    code = await asyncio.to_thread(cli.main, argv)
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_fill_deleted_from_the_ledger_is_found_and_restored_by_repair(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await market(trader, Side.BUY, "0.02")
    await market(trader, Side.BUY, "0.01")
    await market(trader, Side.SELL, "0.005")
    fills = await venue_fills(sim, trader)
    assert len(fills) == 3
    await record(desk_env, fills)
    state_dir = str(tmp_path / "state")

    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 0, out
    assert "ledger and venue agree" in out

    lost = fills[1]
    with sqlite3.connect(desk_env) as conn:
        assert conn.execute("DELETE FROM fills WHERE exec_id = ?", (lost.exec_id,)).rowcount == 1

    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 1
    assert "fill_not_in_ledger" in out and lost.exec_id in out
    assert "position" in out and "+0.025" in out  # the venue's size; the ledger says 0.015
    with sqlite3.connect(desk_env) as conn:  # without --repair nothing was written
        assert conn.execute("SELECT count(*) FROM fills").fetchone()[0] == 2

    code, out, _ = await reconcile(sim, capsys, "--repair", "--state-dir", state_dir)
    assert code == 0, out
    assert "recorded 1 missing fills" in out and "agree after the repair" in out

    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 0, out
    store = await SqliteLedger.connect(desk_env)
    try:
        stored = await store.read_fills(account="shortseller")
        assert sorted(f.exec_id for f in stored) == sorted(f.exec_id for f in fills)
        [row] = (await store.load_positions([(BOT, "BTCUSDT")])).values()
        assert row.position.qty == Decimal("0.025") and row.fill_count == 3
    finally:
        await store.close()
    with sqlite3.connect(desk_env) as conn:  # the repair's recorder keeps the round trips too
        trips = conn.execute("SELECT entry_qty, exit_exec_id FROM completed_trades").fetchall()
    assert trips == [("0.005", fills[2].exec_id)]
    assert not (tmp_path / "state" / f"{BOT}.risk.json").exists()  # nothing was reduced


async def test_a_position_the_ledger_cannot_explain_sets_the_bot_reducing_with_an_alert(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await market(trader, Side.BUY, "0.01")
    [real] = await venue_fills(sim, trader)
    # a fill the venue never made: repair cannot explain the ledger's extra 0.01 away
    ghost = Fill(venue="bybit", account="shortseller", exec_id="ghost-0001", bot_id=BOT,
                 symbol="BTCUSDT", side=Side.BUY, price=real.price, qty=Decimal("0.01"),
                 fee=Decimal(0), exec_time=real.exec_time - timedelta(minutes=1))
    await record(desk_env, [ghost, real])
    registry = await open_bots(f"sqlite:///{desk_env}")
    try:
        await registry.register(BotRecord(BOT, BOT, "shortseller", "shortseller", "active",
                                          "demo", Decimal(10_000)))
    finally:
        await registry.close()
    state_dir = tmp_path / "state"

    code, out, err = await reconcile(sim, capsys, "--repair", "--state-dir", str(state_dir))
    assert code == 1
    assert "fill_not_at_venue" in out and "ghost-0001" in out
    assert f"{BOT} set REDUCING" in out
    assert "ALERT reconcile_mismatch" in err
    saved = json.loads(json.loads((state_dir / f"{BOT}.risk.json").read_text())[f"risk:bot:{BOT}"])
    assert saved["state"] == "REDUCING"
    registry = await open_bots(f"sqlite:///{desk_env}")
    try:
        stored = await registry.get(BOT)
        assert stored is not None and stored.status == "reducing"
    finally:
        await registry.close()
    store = await SqliteLedger.connect(desk_env)
    try:  # nothing the venue lacks is removed
        assert "ghost-0001" in {f.exec_id for f in await store.read_fills(account="shortseller")}
    finally:
        await store.close()


async def test_an_open_order_the_ledger_never_recorded_is_a_difference_repair_leaves(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ack = await trader.trading.create_order(OrderRequest(
        bot_id=BOT, symbol="BTCUSDT", side=Side.BUY, qty=Decimal("0.01"),
        order_link_id=order_link.encode(BOT, order_link.Purpose.ENTRY),
        order_type=OrderType.LIMIT, price=Decimal(50_000),
    ))
    state_dir = str(tmp_path / "state")
    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 1
    assert "order_not_in_ledger" in out and ack.order_id in out
    # orders are not fills: --repair records nothing and reduces no bot for them
    code, out, _ = await reconcile(sim, capsys, "--repair", "--state-dir", state_dir)
    assert code == 1 and "still different after the repair" in out
    assert "recorded" not in out and "REDUCING" not in out


async def test_a_round_trip_whose_pnl_differs_from_the_venues_closed_pnl_is_shown(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await market(trader, Side.BUY, "0.02")
    await market(trader, Side.SELL, "0.01")
    await market(trader, Side.SELL, "0.01")
    fills = await venue_fills(sim, trader)
    await record(desk_env, fills)
    state_dir = str(tmp_path / "state")
    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 0, out  # the flat episode's round trips agree with Bybit's closed PnL

    closing = [f for f in fills if f.side is Side.SELL]
    with sqlite3.connect(desk_env) as conn:  # a fee the ledger got wrong
        conn.execute("UPDATE fills SET commission = '1' WHERE exec_id = ?", (closing[0].exec_id,))
    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir)
    assert code == 1
    [line] = [row for row in out.splitlines() if "│ pnl" in row]
    assert all(f.order_id in line for f in closing)  # the episode's closing orders


async def test_a_halted_bot_stays_halted_when_reconcile_would_reduce_it(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from alphadesk.adapters.storage.risk_state import FileStateStore
    from alphadesk.engine.trading_state import KillSwitch, TradingState

    await market(trader, Side.BUY, "0.01")
    [real] = await venue_fills(sim, trader)
    ghost = Fill(venue="bybit", account="shortseller", exec_id="ghost-0002", bot_id=BOT,
                 symbol="BTCUSDT", side=Side.SELL, price=real.price, qty=Decimal("0.01"),
                 fee=Decimal(0), exec_time=real.exec_time - timedelta(minutes=1))
    await record(desk_env, [ghost, real])
    state_file = tmp_path / "state" / f"{BOT}.risk.json"
    KillSwitch(f"bot:{BOT}", FileStateStore(state_file)).command(TradingState.HALTED, 0, "owner")
    code, out, _ = await reconcile(sim, capsys, "--repair", "--state-dir", str(state_file.parent))
    assert code == 1 and "ghost-0002" in out
    assert KillSwitch(f"bot:{BOT}", FileStateStore(state_file)).state is TradingState.HALTED


def _textfile(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(path.read_text())
            for s in family.samples}


async def test_metrics_file_counts_the_differences_and_goes_to_zero_after_repair(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await market(trader, Side.BUY, "0.02")
    await market(trader, Side.SELL, "0.01")
    fills = await venue_fills(sim, trader)
    await record(desk_env, fills[:1])  # the ledger lacks the sell
    metrics, state_dir = tmp_path / "reconcile.prom", str(tmp_path / "state")
    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir,
                                   "--metrics-file", str(metrics))
    assert code == 1, out
    page = _textfile(metrics)
    by_kind = {labels[1][1]: v for (name, labels), v in page.items()
               if name == "alphadesk_reconcile_differences_by_kind"}
    assert by_kind["fill_not_in_ledger"] == 1 and by_kind["position"] == 1
    assert page[("alphadesk_reconcile_differences", (("account", "shortseller"),))] == sum(
        by_kind.values())
    assert page[("alphadesk_reconcile_last_run_timestamp_seconds", ())] > 0

    code, out, _ = await reconcile(sim, capsys, "--repair", "--state-dir", state_dir)
    assert code == 0, out
    code, out, _ = await reconcile(sim, capsys, "--state-dir", state_dir,
                                   "--metrics-file", str(metrics))
    assert code == 0, out
    page = _textfile(metrics)
    assert page[("alphadesk_reconcile_differences", (("account", "shortseller"),))] == 0
    assert not [k for k in page if k[0] == "alphadesk_reconcile_differences_by_kind"]


async def test_with_redis_the_repair_also_tells_the_running_bot_to_reduce(
    sim: Any, trader: BybitClient, desk_env: Path, tmp_path: Path, redis_url: str,
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A running bot took reconcile's REDUCING only on its next start; with Redis the repair
    also publishes a ``reduce`` command on ``commands:{bot}`` (audited), which it applies now."""
    from alphadesk.adapters.redis.state import RedisState
    from alphadesk.adapters.storage.control_audit import open_audit
    from alphadesk.domain.commands import CommandKind
    from alphadesk.engine.control_commands import COMMAND_GROUP

    monkeypatch.setenv("REDIS_URL", redis_url)
    await market(trader, Side.BUY, "0.01")
    [real] = await venue_fills(sim, trader)
    ghost = Fill(venue="bybit", account="shortseller", exec_id="ghost-0003", bot_id=BOT,
                 symbol="BTCUSDT", side=Side.BUY, price=real.price, qty=Decimal("0.01"),
                 fee=Decimal(0), exec_time=real.exec_time - timedelta(minutes=1))
    await record(desk_env, [ghost, real])
    code, out, _ = await reconcile(sim, capsys, "--repair", "--state-dir",
                                   str(tmp_path / "state"), "--namespace", redis_prefix)
    assert code == 1 and f"{BOT} sent a reduce command on commands:{BOT}" in out
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        (delivery,) = await state.bus.commands(BOT).read(COMMAND_GROUP, BOT)
    finally:
        await state.aclose()
    command = delivery.event
    assert (command.kind, command.actor, command.bot_id) == (CommandKind.REDUCE, "reconcile", BOT)
    assert "position not explained" in command.reason
    audit = await open_audit(f"sqlite:///{desk_env}")
    try:
        (row,) = await audit.recent(bot_id=BOT)
    finally:
        await audit.close()
    assert (row.command_id, row.command, row.actor, row.outcome) == (
        command.id, "reduce", "reconcile", "published",
    )


async def test_the_control_facades_reconcile_shows_differences_and_writes_nothing(
    sim: Any, trader: BybitClient, desk_env: Path
) -> None:
    """What ``/reconcile`` and ``alphadesk control reconcile`` answer: the same diff, read-only."""
    from alphadesk.app import settings as desk_settings
    from alphadesk.app.control import open_control

    await market(trader, Side.BUY, "0.02")
    await market(trader, Side.SELL, "0.005")
    fills = await venue_fills(sim, trader)
    await record(desk_env, fills[:1])  # the sell never reached the ledger
    registry = await open_bots(f"sqlite:///{desk_env}")
    try:
        await registry.register(BotRecord(BOT, BOT, "shortseller", "shortseller", "active",
                                          "demo", Decimal(10_000)))  # fmt: skip
    finally:
        await registry.close()
    now = from_epoch_ms("sim.now", sim.now_ms)  # the replayed market's clock, not the wall's
    window = (now - timedelta(days=1), now + timedelta(days=1))
    async with open_control(desk_settings.load(), health_file=None,
                            reconcile_window=window) as control:  # fmt: skip
        view = await control.reconcile("shortseller")
    assert view.available and not view.equal and view.accounts == ("shortseller",)
    kinds = {(d.kind, d.ref) for d in view.differences}
    assert ("fill_not_in_ledger", fills[1].exec_id) in kinds
    assert any(kind == "position" for kind, _ in kinds)
    with sqlite3.connect(desk_env) as conn:  # read-only: the missing fill is still missing
        assert conn.execute("SELECT count(*) FROM fills").fetchone()[0] == 1
