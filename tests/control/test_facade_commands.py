"""Commands through the facade: each is audited in the ledger (who, when, what, outcome) and
published on ``commands:{bot_id}``; an unknown bot is refused with a clear error, audited too."""

from __future__ import annotations

import pytest

from alphadesk.adapters.storage.control_audit import open_audit
from alphadesk.domain.commands import CommandKind
from alphadesk.engine.control_commands import COMMAND_GROUP
from alphadesk.engine.control_views import UnknownBot

from .conftest import Desk
from .control_support import LX, NOW, SS, control_over, seed


async def test_commands_are_published_and_audited(desk: Desk) -> None:
    await seed(desk.url)
    async with control_over(desk.url, desk.state) as control:
        halt = await control.halt("lxalgo", actor="cli:owner")
        flatten = await control.flatten(SS, actor="telegram:42")
        assert (halt.bot_id, halt.kind, halt.actor, halt.at) == (
            LX, CommandKind.HALT, "cli:owner", NOW,
        )  # fmt: skip
        assert halt.bot_alive is False  # lxalgo is stopped: it applies the halt when it starts
        assert flatten.bot_alive is True  # beat 10 s ago
        with pytest.raises(UnknownBot, match="bot='ghost'"):
            await control.resume("ghost", actor="telegram:666")

        stream = desk.state.bus.commands(LX)
        (delivery,) = await stream.read(COMMAND_GROUP, LX)
        assert delivery.id == halt.entry_id
        assert (delivery.event.id, delivery.event.kind, delivery.event.actor) == (
            halt.id, CommandKind.HALT, "cli:owner",
        )  # fmt: skip
        assert await desk.state.bus.commands(SS).length() == 1

        lines = await control.audit_log()
        assert [(a.bot_id, a.command, a.actor, a.outcome) for a in lines] == [
            ("ghost", "resume", "telegram:666",
             "refused: is not a known bot (known: lxalgo_001, shortseller_001)"),
            (SS, "flatten", "telegram:42", "published"),
            (LX, "halt", "cli:owner", "published"),
        ]  # fmt: skip
        assert [a.at for a in lines] == [NOW, NOW, NOW]

    audit = await open_audit(desk.url)  # the bot's side: it writes the outcome once applied
    try:
        await audit.set_outcome(halt.id, "applied: reducing", NOW)
        (row,) = await audit.recent(bot_id=LX)
        assert (row.command_id, row.outcome, row.applied_at) == (halt.id, "applied: reducing", NOW)
    finally:
        await audit.close()
