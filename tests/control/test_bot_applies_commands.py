"""A bot applies the commands on ``commands:{bot_id}`` itself: one that was down applies them when
it starts, before it trades; a halt keeps it from opening positions (the strategy's entries are
refused) and its state is persisted (kill-switch file, ``trading.bots``, ``bot:{id}:status``) and
the command's audit row gets the outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from alphadesk.adapters.storage.bots import open_bots
from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.app.bot import Bot
from alphadesk.app.control import open_control
from alphadesk.app.settings import Settings
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.engine.control_commands import COMMAND_GROUP
from alphadesk.strategies.api import TradingState
from bot.support import BOT_ID, paper_options, settings

from .conftest import Desk

FIRST_ENTRY = to_epoch_ms(datetime(2025, 9, 26, 2, 0, tzinfo=UTC))  # shortseller enters at 02:10


def _settings(desk: Desk) -> Settings:
    return replace(settings(desk.url), redis_url=desk.redis_url)


async def test_a_halt_sent_while_the_bot_is_down_is_applied_when_it_starts(
    desk: Desk, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    config = _settings(desk)
    options = paper_options(market_csv, tmp_path / "state", redis_namespace=desk.namespace)
    shared = desk.state if desk.redis_url is None else None
    await Bot(config, replace(options, max_bars=1), state=shared).run()  # registers, stops

    async with open_control(config, namespace=desk.namespace, state=shared,
                            health_file=None) as control:  # fmt: skip
        receipt = await control.halt("shortseller", actor="cli:owner")
        assert receipt.bot_id == BOT_ID and not receipt.bot_alive

        # From 02:00 an ACTIVE shortseller enters ETHUSDT at 02:10; this one must not.
        run = await Bot(
            config, replace(options, start_ms=FIRST_ENTRY, max_bars=120), state=shared
        ).run()
        assert run.commands is not None
        assert [(c.id, outcome) for c, outcome in run.commands.applied] == [
            (receipt.id, "applied: reducing")
        ]
        assert run.engine.risk.state is TradingState.REDUCING
        assert run.engine.fills == []
        refused = [r for r in run.engine.refusals if r.kind == "enter"]
        assert refused and all("no new positions" in r.reason for r in refused)

        kept = json.loads((tmp_path / "state" / f"{BOT_ID}.risk.json").read_text())
        assert json.loads(kept[f"risk:bot:{BOT_ID}"])["state"] == "REDUCING"
        stream = control.commands.commands(BOT_ID)
        assert await stream.pending_count(COMMAND_GROUP) == 0  # acknowledged
        (line,) = await control.audit_log("shortseller")
        assert (line.command_id, line.outcome) == (receipt.id, "applied: reducing")
        assert line.applied_at is not None and line.actor == "cli:owner"

        # Applied once: the next start finds nothing waiting and stays REDUCING from its file.
        again = await Bot(config, replace(options, max_bars=1), state=shared).run()
        assert again.commands is not None and again.commands.applied == []
        assert again.engine.risk.state is TradingState.REDUCING

        resume = await control.resume(BOT_ID, actor="cli:owner")
        back = await Bot(config, replace(options, max_bars=1), state=shared).run()
        assert back.commands is not None
        assert [(c.id, o) for c, o in back.commands.applied] == [(resume.id, "applied: active")]
        assert back.engine.risk.state is TradingState.ACTIVE
    bots = await open_bots(desk.url)
    try:
        record = await bots.get(BOT_ID)
        assert record is not None and record.status == "stopped"  # stopped after the run
    finally:
        await bots.close()
    audit = await open_audit(desk.url)
    try:
        assert [e.outcome for e in await audit.recent(bot_id=BOT_ID)] == [
            "applied: active", "applied: reducing",
        ]  # fmt: skip
    finally:
        await audit.close()


async def test_a_halted_bot_stays_halted_and_flatten_with_nothing_open_says_so(
    desk: Desk, market_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    """A command never lowers the drawdown switch's HALTED (only resume does); a flatten of a
    flat bot closes nothing and says so in the audit row."""
    from alphadesk.adapters.storage.risk_state import FileStateStore
    from alphadesk.engine.trading_state import KillSwitch

    config = _settings(desk)
    options = paper_options(market_csv, tmp_path / "state", redis_namespace=desk.namespace)
    shared = desk.state if desk.redis_url is None else None
    await Bot(config, replace(options, max_bars=1), state=shared).run()  # registers, stops
    switch_file = tmp_path / "state" / f"{BOT_ID}.risk.json"
    KillSwitch(f"bot:{BOT_ID}", FileStateStore(switch_file)).command(
        TradingState.HALTED, 0, "drawdown 0.2 from peak 10000"
    )
    async with open_control(config, namespace=desk.namespace, state=shared,
                            health_file=None) as control:  # fmt: skip
        halt = await control.halt(BOT_ID, actor="telegram:42")
        flatten = await control.flatten(BOT_ID, actor="telegram:42")
        run = await Bot(config, replace(options, max_bars=1), state=shared).run()
        assert run.commands is not None
        assert [(c.id, o) for c, o in run.commands.applied] == [
            (halt.id, "applied: halted"),
            (flatten.id, "applied: halted, nothing to close"),
        ]
        assert run.engine.risk.state is TradingState.HALTED
        outcomes = {a.command_id: a.outcome for a in await control.audit_log(BOT_ID)}
        assert outcomes == {halt.id: "applied: halted",
                            flatten.id: "applied: halted, nothing to close"}  # fmt: skip
