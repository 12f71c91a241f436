"""``/halt`` reaches a bot running in another process: ``alphadesk bot shortseller`` (paper, on
replayed candles, PostgreSQL through PgBouncer and Redis) gets the command on its stream, stops
opening positions and keeps managing its exits; ``flatten`` makes it close its own positions
through its own order path (the exits reach the ledger through its fill recorder, as every fill
does). Nothing here waits a guessed time: each step waits for the state it needs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphadesk.adapters.storage.stores import open_store
from alphadesk.app.control import open_control
from alphadesk.app.settings import Settings
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.fills import Fill
from alphadesk.domain.ordering import in_fold_order
from alphadesk.engine.control import Control
from alphadesk.engine.control_views import UnknownBot
from bot.support import BOT_ID, FILES
from harness.waiting import eventually

from .conftest import Desk

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WITHIN_S = 60  # the bot is a separate process that must start and trade first


def _moves(fills: list[Fill], since_ms: int) -> list[tuple[Fill, Decimal, Decimal]]:
    """Each position-moving fill at or after ``since_ms`` with the |position| before and after."""
    held: dict[str, Decimal] = {}
    out = []
    for fill in in_fold_order(f for f in fills if f.moves_position):
        before = held.get(fill.symbol, Decimal(0))
        after = before + fill.signed_qty
        held[fill.symbol] = after
        if to_epoch_ms(fill.exec_time) >= since_ms:
            out.append((fill, abs(before), abs(after)))
    return out


def _open_at(fills: list[Fill], at_ms: int) -> bool:
    held: dict[str, Decimal] = {}
    for fill in in_fold_order(f for f in fills if f.moves_position):
        if to_epoch_ms(fill.exec_time) < at_ms:
            held[fill.symbol] = held.get(fill.symbol, Decimal(0)) + fill.signed_qty
    return any(q != 0 for q in held.values())


async def test_halt_and_flatten_reach_a_bot_in_another_process(
    shared_desk: Desk, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    desk = shared_desk
    assert desk.redis_url is not None
    state_dir = tmp_path / "state"
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET"))},
        "DATABASE_URL": desk.url,
        "REDIS_URL": desk.redis_url,
        "LOG_LEVEL": "WARNING",
    }
    data = [arg for f in FILES for arg in ("--data", str(market_csv(f)))]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphadesk.app.cli", "bot", "shortseller", "--mode", "paper",
        "--from", "2025-09-26T02:00:00Z", "--pace", "0.05", "--heartbeat", "0.5",
        "--namespace", desk.namespace, "--state-dir", str(state_dir), *data,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    config = Settings(database_url=desk.url, redis_url=desk.redis_url)
    store = await open_store(desk.url)
    try:
        async with open_control(config, namespace=desk.namespace, health_file=None) as control:
            await _halt_stops_entries_and_keeps_exits(control, store, state_dir)
            await _flatten_closes_through_the_bot(control, store)
    finally:
        await store.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        out = await proc.stdout.read() if proc.stdout else b""
        err = await proc.stderr.read() if proc.stderr else b""
    assert code == 0, err.decode()[-3000:]
    assert b"state REDUCING" in out, out.decode()


async def _status(control: Control) -> str:
    """The bot's status word while it is alive ("" before it registered or while down)."""
    try:
        (line,) = (await control.status(BOT_ID)).bots
    except UnknownBot:
        return ""
    return line.status if line.alive else ""


async def _applied(control: Control, command_id: str) -> str:
    for line in await control.audit_log(BOT_ID, limit=50):
        if line.command_id == command_id and line.applied_at is not None:
            return line.outcome
    return ""


async def _halt_stops_entries_and_keeps_exits(
    control: Control, store: Any, state_dir: Path
) -> None:
    await eventually(lambda: _is(control, "active"), WITHIN_S, "the bot runs, ACTIVE")
    for _attempt in range(5):
        await eventually(lambda: control.positions(BOT_ID), WITHIN_S, "the bot holds a position")
        receipt = await control.halt("shortseller", actor="test:halt")
        assert receipt.bot_alive
        outcome = await eventually(
            lambda r=receipt: _applied(control, r.id), WITHIN_S, "the halt is applied"
        )
        assert outcome == "applied: reducing"
        assert await _status(control) == "reducing"
        kept = json.loads((state_dir / f"{BOT_ID}.risk.json").read_text())
        since_ms = json.loads(kept[f"risk:bot:{BOT_ID}"])["since_ms"]  # bar time of the halt
        if _open_at(await store.read_fills(bot_id=BOT_ID), since_ms):
            break
        resume = await control.resume(BOT_ID, actor="test:halt")  # flat at the halt: again
        await eventually(
            lambda r=resume: _applied(control, r.id), WITHIN_S, "the resume is applied"
        )
    else:
        raise AssertionError("the bot was flat at every halt")

    async def exits_after_halt() -> bool:
        moves = _moves(await store.read_fills(bot_id=BOT_ID), since_ms)
        return any(after < before for _, before, after in moves)

    await eventually(exits_after_halt, WITHIN_S, "the halted bot closes a position by its own exit")
    moves = _moves(await store.read_fills(bot_id=BOT_ID), since_ms)
    opened = [(f.symbol, f.exec_time, old, new) for f, old, new in moves if new > old]
    assert opened == [], "the halted bot opened or grew a position"


async def _is(control: Control, word: str) -> bool:
    return await _status(control) == word


async def _flatten_closes_through_the_bot(control: Control, store: Any) -> None:
    for _attempt in range(5):
        resume = await control.resume(BOT_ID, actor="test:flatten")
        await eventually(
            lambda r=resume: _applied(control, r.id), WITHIN_S, "the resume is applied"
        )
        await eventually(
            lambda: control.positions(BOT_ID), WITHIN_S, "the resumed bot holds a position"
        )
        flatten = await control.flatten("shortseller", actor="test:flatten")
        outcome = await eventually(
            lambda r=flatten: _applied(control, r.id), WITHIN_S, "flatten is applied"
        )
        if "closing" in outcome:
            break
    else:
        raise AssertionError("every flatten found the bot flat")
    assert outcome.startswith("applied: reducing, closing")

    async def flat_by_flatten() -> bool:
        fills = await store.read_fills(bot_id=BOT_ID)
        return not await control.positions(BOT_ID) and any(
            f.close_reason == "flatten" for f in fills
        )

    await eventually(
        flat_by_flatten, WITHIN_S, "the bot closed its positions with reason 'flatten'"
    )
    assert await _status(control) == "reducing"
