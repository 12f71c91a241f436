"""``commands:{bot_id}`` behaves the same on Redis and in process: one stream per bot under the
desk's key names, commands round-trip exactly, a bot's group starts at the beginning (a command
sent before the bot ever read is delivered), unacknowledged entries come back to the same
consumer, and an entry that cannot be decoded is reported by id, never applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis.state import RedisState
from alphadesk.domain.commands import CommandKind, ControlCommand
from alphadesk.domain.errors import InvalidField
from alphadesk.engine.state_ports import CorruptEvent

AT = datetime(2025, 11, 7, 1, 55, 0, 123_000, tzinfo=UTC)


def command(
    n: int, kind: CommandKind = CommandKind.HALT, bot: str = "lxalgo_001"
) -> ControlCommand:
    return ControlCommand(f"c{n}", bot, kind, "telegram:42", AT, "because" if n % 2 else "")


async def test_commands_round_trip_per_bot_and_wait_for_their_bot(
    state: RedisState | MemoryState,
) -> None:
    sent = [command(1), command(2, CommandKind.FLATTEN), command(3, CommandKind.RESUME)]
    await state.bus.commands("lxalgo_001").publish(sent)
    await state.bus.commands("momentum_001").publish([command(4, bot="momentum_001")])
    stream = state.bus.commands("lxalgo_001")
    first = await stream.read("bot", "lxalgo_001", count=2)
    assert [d.event for d in first] == sent[:2]
    # not acknowledged: a restarted bot gets them again, then the rest
    again = await stream.read("bot", "lxalgo_001", pending=True)
    assert [d.event for d in again] == sent[:2]
    assert await stream.ack("bot", [d.id for d in again]) == 2
    rest = await stream.read("bot", "lxalgo_001")
    assert [d.event for d in rest] == sent[2:]
    assert await stream.length() == 3 and await stream.pending_count("bot") == 1
    if isinstance(state, RedisState):
        assert stream.name == f"{state.keys.namespace}commands:lxalgo_001"
        assert await state.client.exists(state.keys.commands("momentum_001")) == 1


async def test_a_corrupt_command_is_reported_by_its_entry_id(
    redis_url: str, redis_prefix: str
) -> None:
    """Only a foreign writer can put bytes the codec refuses on the stream (Redis only)."""
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        key = state.keys.commands("lxalgo_001")
        bad = {b"data": b'{"id": "x", "kind": "explode"}'}
        entry = (await state.client.xadd(key, bad)).decode()  # type: ignore[arg-type]
        with pytest.raises(CorruptEvent) as caught:
            await state.bus.commands("lxalgo_001").read("bot", "lxalgo_001")
        assert caught.value.entry_id == entry and "command" in caught.value.reason
    finally:
        await state.aclose()


def test_a_command_names_its_bad_field() -> None:
    with pytest.raises(InvalidField, match="command.kind"):
        ControlCommand("c1", "lxalgo_001", "explode", "me", AT)  # type: ignore[arg-type]
    with pytest.raises(InvalidField, match="command.bot_id"):
        ControlCommand("c1", "a:b", CommandKind.HALT, "me", AT)
    with pytest.raises(InvalidField, match="command.at"):
        ControlCommand("c1", "b", CommandKind.HALT, "me", datetime(2025, 1, 1))
