"""Row-by-row decoding of private frames, the health view, and the two commands."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from listener_support import (
    ACCOUNT,
    BOT,
    Ledger,
    State,
    execution_frame,
    execution_row,
    fills,
    frame_bytes,
    sqlite_ledger,
)

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.streams import decode_private_frame
from alphadesk.adapters.bybit.ws_decode import PrivateEvent
from alphadesk.adapters.spool import DiskSpool
from alphadesk.app.commands import listener as listener_command
from alphadesk.app.commands import state as state_command
from alphadesk.app.listener import accounts_from_settings
from alphadesk.app.settings import load
from alphadesk.domain.fills import UNKNOWN_BOT, Fill
from alphadesk.engine.health import HealthBook
from alphadesk.engine.ingest import Ingest


def _msg(frame: dict[str, object]) -> w.WsMessage:
    return msgspec.json.decode(frame_bytes(frame), type=w.WsMessage)


def decode_private(
    msg: w.WsMessage, account: str, bot: str
) -> tuple[list[PrivateEvent], list[str]]:
    """The listener's decoding path (the private stream's), with one error text per bad row."""
    events, skipped = decode_private_frame(msg, account, default_bot=bot)
    return events, [f"{s.where} {s.item_id}: {s.reason}" for s in skipped]


async def test_a_malformed_row_is_counted_and_its_neighbours_recorded(
    ledger: Ledger, spool: DiskSpool
) -> None:
    good1, good2 = execution_row(), execution_row()
    bad = execution_row(execPrice="not-a-number")
    odd = execution_row(execType="Liquidation")
    events, errors = decode_private(_msg(execution_frame([good1, bad, odd, good2])), ACCOUNT, BOT)
    assert [e.exec_id for e in events if isinstance(e, Fill)] == [good1["execId"],
                                                                  good2["execId"]]
    assert len(errors) == 2 and "execPrice" in errors[0] and "execType" in errors[1]
    ingest = Ingest(ledger.writer, spool)
    for error in errors:
        ingest.note_malformed(ACCOUNT, error)
    await ingest.ingest(events)
    assert await ledger.exec_ids() == [good1["execId"], good2["execId"]]
    assert ingest.stats.malformed == 2


def test_unknown_topics_and_non_list_data_are_errors_not_crashes() -> None:
    events, errors = decode_private(_msg({"topic": "greeks", "data": []}), ACCOUNT, BOT)
    assert events == [] and "greeks" in errors[0]
    events, errors = decode_private(_msg({"topic": "execution", "data": {"x": 1}}), ACCOUNT, BOT)
    assert events == [] and "Expected `array`" in errors[0]


def test_accounts_from_settings_share_one_socket_per_key() -> None:
    settings = load({
        "SHORTSELLER_BYBIT_API_KEY": "K1", "SHORTSELLER_BYBIT_API_SECRET": "s1",
        "LXALGO_BYBIT_API_KEY": "K1", "LXALGO_BYBIT_API_SECRET": "s1",
        "MOMENTUM_BYBIT_API_KEY": "K2", "MOMENTUM_BYBIT_API_SECRET": "s2",
        "BYBIT_DEMO": "true",
    })
    specs = accounts_from_settings(settings)
    assert [(s.config.api_key, s.bots, s.default_bot) for s in specs] == [
        ("K1", ("shortseller_001", "lxalgo_001"), UNKNOWN_BOT),
        ("K2", ("momentum_001",), "momentum_001"),
    ]
    assert "s1" not in repr(specs)


def test_health_reports_disconnected_silent_and_spooled() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    book = HealthBook(["a", "b"], max_silence_s=5, clock=lambda: now[0])
    book.connected("a", True)
    book.message("a", exec_time=now[0])
    assert book.report(0).problems == ("b: disconnected",)
    book.connected("b", True)
    book.message("b")
    now[0] += timedelta(seconds=10)
    book.message("b")
    report = book.report(3)
    assert report.problems == ("a: silent for 10 s", "3 fills spooled (database down)")
    assert not report.healthy
    assert report.accounts[0].last_exec_time == now[0] - timedelta(seconds=10)
    assert json.loads(report.to_json())["accounts"][1]["last_message_age_s"] == 0.0


def test_health_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.json"
    assert listener_command.health(path) == 2
    now = datetime.now(UTC)
    path.write_text(json.dumps({"at": now.isoformat(), "healthy": True}))
    assert listener_command.health(path, now=now) == 0
    assert listener_command.health(path, now=now + timedelta(minutes=5)) == 1
    path.write_text(json.dumps({"at": now.isoformat(), "healthy": False}))
    assert listener_command.health(path, now=now) == 1
    assert '"healthy": false' in capsys.readouterr().out


def test_listener_refuses_to_start_without_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SHORTSELLER", "LXALGO", "MOMENTUM"):
        monkeypatch.delenv(f"{name}_BYBIT_API_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    args = argparse.Namespace(health=False, health_file=tmp_path / "h", spool_dir=tmp_path / "s",
                              symbols=[], namespace="")
    assert listener_command.run(args) == 2
    assert "no bot has API keys" in capsys.readouterr().err


async def test_state_rebuild_command_repairs_redis_from_the_ledger(
    tmp_path: Path, state: State, redis_url: str, redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = await sqlite_ledger(tmp_path / "l.db")
    await Ingest(ledger.writer, DiskSpool(tmp_path / "sp")).ingest(fills(3, qty="0.5"))
    await ledger.store.close()
    await state.client.set(state.keys.position(BOT, "BTCUSDT"), b"garbage")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'l.db'}")
    monkeypatch.setenv("REDIS_URL", redis_url)
    args = argparse.Namespace(bot=None, namespace=redis_prefix)
    code = await asyncio.to_thread(state_command.run_rebuild, args)
    assert code == 0
    position = await state.positions.get_position(BOT, "BTCUSDT")
    assert position is not None and position.size == Decimal("1.5") and position.seq == 3
