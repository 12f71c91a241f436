"""The event bus: durable streams with consumer groups, and fire-and-forget notifications.

Each behaviour runs on the real Redis and on the in-process bus. A "crash" is a consumer that
read without acking and whose bus object is thrown away; "restart" is a new bus object (for
Redis, a new connection) reading with the same consumer name.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.adapters.redis.alert_codec import decode_alert
from alphadesk.domain.alerts import Alert
from alphadesk.domain.bars import Bar
from alphadesk.domain.enums import ExecType
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import CorruptEvent
from alphadesk.testing.builders import make_fill

D = Decimal

State = RedisState | MemoryState


def restarted(state: State) -> State:
    """The same backing store seen by a fresh process."""
    if isinstance(state, MemoryState):
        return state  # in process, the bus object *is* the store; the consumer name is the state
    return RedisState.from_url(_url(state), namespace=state.keys.namespace)


def _url(state: RedisState) -> str:
    kwargs = state.client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


async def test_published_fills_are_read_in_order_and_identical(
    state: State, real_fills: list[Fill]
) -> None:
    ids = await state.bus.publish_fills(real_fills)
    assert len(ids) == len(real_fills) == len(set(ids))
    got = await state.bus.fills.read("ledger-audit", "c1", count=100)
    assert [d.event for d in got] == real_fills
    assert [d.id for d in got] == ids
    assert {f.exec_type for f in (d.event for d in got)} >= {ExecType.ADL_TRADE}
    assert await state.bus.fills.length() == len(real_fills)
    assert await state.bus.fills.read("ledger-audit", "c1") == []  # nothing new


async def test_every_group_gets_every_event(state: State) -> None:
    fills = [make_fill(price="95900.1234567890123")] + [make_fill() for _ in range(2)]
    await state.bus.publish_fills(fills)
    for group in ("telegram", "portfolio"):
        assert [d.event for d in await state.bus.fills.read(group, "only")] == fills
    assert str((await state.bus.fills.read("web", "w"))[0].event.price) == "95900.1234567890123"


async def test_ack_removes_from_pending(state: State) -> None:
    await state.bus.publish_fills([make_fill() for _ in range(3)])
    got = await state.bus.fills.read("g", "c", count=10)
    assert await state.bus.fills.pending_count("g") == 3
    assert await state.bus.fills.ack("g", [got[0].id, got[1].id]) == 2
    assert await state.bus.fills.ack("g", [got[0].id]) == 0  # twice is a no-op
    assert await state.bus.fills.pending_count("g") == 1


async def test_crashed_consumer_rereads_its_pending_entries_after_restart(state: State) -> None:
    fills = [make_fill() for _ in range(4)]
    await state.bus.publish_fills(fills)
    first = await state.bus.fills.read("listener", "worker-1", count=3)
    await state.bus.fills.ack("listener", [first[0].id])
    # crash: entries 2 and 3 were delivered, never acked
    after = restarted(state)
    try:
        again = await after.bus.fills.read("listener", "worker-1", pending=True)
        assert [d.event for d in again] == fills[1:3]
        assert [d.id for d in again] == [d.id for d in first[1:]]
        assert await after.bus.fills.ack("listener", [d.id for d in again]) == 2
        assert await after.bus.fills.read("listener", "worker-1", pending=True) == []
        rest = await after.bus.fills.read("listener", "worker-1")
        assert [d.event for d in rest] == fills[3:]
    finally:
        if after is not state:
            await after.aclose()


async def test_another_consumer_claims_idle_entries(state: State) -> None:
    fills = [make_fill() for _ in range(3)]
    await state.bus.publish_fills(fills)
    await state.bus.fills.read("listener", "dead", count=3)
    assert await state.bus.fills.claim("listener", "alive", min_idle_ms=60_000) == []
    claimed = []
    for _ in range(1000):  # until 20 ms have passed on the bus's clock (a wait, not a claim)
        claimed = await state.bus.fills.claim("listener", "alive", min_idle_ms=20)
        if claimed:
            break
        await asyncio.sleep(0.01)
    assert [d.event for d in claimed] == fills
    assert await state.bus.fills.read("listener", "dead", pending=True) == []
    mine = await state.bus.fills.read("listener", "alive", pending=True)
    assert [d.id for d in mine] == [d.id for d in claimed]
    await state.bus.fills.ack("listener", [d.id for d in mine])
    assert await state.bus.fills.pending_count("listener") == 0


async def _blocked(state: State, reader: asyncio.Task[object]) -> None:
    """Wait until ``reader`` blocks: for Redis, until this state's connection shows blocked in
    CLIENT LIST (the fixture names it after its prefix); in process, a step of the reader."""
    await asyncio.sleep(0)
    if not isinstance(state, RedisState):
        return
    name = state.keys.namespace
    for _ in range(3000):
        assert not reader.done(), "the read returned before anything was published"
        clients = await state.client.client_list()
        if any(c.get("name") == name and "b" in c.get("flags", "") for c in clients):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the read never blocked")


async def test_blocking_read_wakes_on_publish(state: State) -> None:
    reader = asyncio.create_task(state.bus.fills.read("g", "c", block_ms=60_000))
    await _blocked(state, reader)
    fill = make_fill()
    await state.bus.fills.publish([fill])
    got = await asyncio.wait_for(reader, 5)
    assert [d.event for d in got] == [fill]
    assert await state.bus.fills.read("g", "c", block_ms=50) == []  # times out empty


async def test_subscriber_receives_the_notification(state: State) -> None:
    fill = make_fill(qty="0.001", fee="-0.00012", is_maker=True)
    async with state.bus.subscribe_fills() as subscription:
        await state.bus.publish_fills([fill])
        assert await subscription.get(2.0) == fill
        assert await state.bus.notify_fills([fill]) == 1
        assert await subscription.get(2.0) == fill
        assert await subscription.get(0.05) is None
    assert await state.bus.notify_fills([fill]) == 0  # fire-and-forget: nobody listens now


async def test_bars_round_trip_through_their_stream(state: State) -> None:
    bars = [
        Bar(
            "BTCUSDT",
            240,
            1_758_672_000_000 + i * 14_400_000,
            112_000.1 + i,
            112_500.0,
            111_900.25,
            112_100.7,
            1234.567,
            0.1 + 0.2,
        )
        for i in range(3)
    ]
    await state.bus.bars.publish(bars)
    got = await state.bus.bars.read("bot-shortseller", "p1")
    assert [d.event for d in got] == bars
    assert await state.bus.fills.length() == 0


async def test_recent_reads_the_newest_entries_newest_first_outside_any_group(
    state: State,
) -> None:
    bars = [Bar("ETHUSDT", 1, 1_758_672_000_000 + i * 60_000, 1.0, 2.0, 0.5, i + 0.25, 3.0)
            for i in range(5)]  # fmt: skip
    assert await state.bus.bars.recent(3) == []
    ids = await state.bus.bars.publish(bars)
    got = await state.bus.bars.recent(3)
    assert [d.event for d in got] == bars[:1:-1]  # the newest three, newest first
    assert [d.id for d in got] == ids[:1:-1]
    assert [d.event for d in await state.bus.bars.recent(100)] == bars[::-1]
    assert await state.bus.bars.recent(0) == []
    # paging back: strictly older than ``before``
    older = await state.bus.bars.recent(2, before=got[-1].id)
    assert [d.event for d in older] == [bars[1], bars[0]]
    assert await state.bus.bars.recent(2, before=ids[0]) == []
    with pytest.raises(InvalidField) as err:
        await state.bus.bars.recent(2, before="+")
    assert err.value.field == "before"
    # A display read takes nothing from a consumer group: the bots still get every bar.
    assert [d.event for d in await state.bus.bars.read("bot-x", "c")] == bars
    assert await state.bus.bars.pending_count("never") == 0


async def test_empty_batches_do_nothing(state: State) -> None:
    assert await state.bus.publish_fills([]) == []
    assert await state.bus.fills.ack("g", []) == 0
    assert await state.bus.fills.pending_count("never") == 0


@pytest.mark.redis
async def test_redis_stream_and_channel_names(
    redis_url: str, redis_prefix: str, redis_client: Redis
) -> None:
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    pubsub = redis_client.pubsub()
    try:
        await pubsub.subscribe(f"{redis_prefix}fills_channel")
        await pubsub.get_message(timeout=2.0)  # subscribe confirmation
        await state.bus.publish_fills([make_fill(price="1.10")])
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert message is not None and b'"price":"1.10"' in message["data"]
        assert await redis_client.xlen(f"{redis_prefix}events:fills") == 1
        await redis_client.xadd(f"{redis_prefix}events:fills", {b"data": b"{broken"})
        await state.bus.fills.read("g", "c", count=1)
        with pytest.raises(CorruptEvent) as err:
            await state.bus.fills.read("g", "c")
        assert err.value.stream == f"{redis_prefix}events:fills"
        assert await state.bus.fills.pending_count("g") == 2  # the bad entry is not lost
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await state.aclose()


@pytest.mark.redis
async def test_redis_stream_is_capped(redis_url: str, redis_prefix: str) -> None:
    state = RedisState.from_url(redis_url, namespace=redis_prefix, maxlen=100)
    try:
        for _ in range(10):
            await state.bus.fills.publish([make_fill(fee=D("0.1")) for _ in range(100)])
        length = await state.bus.fills.length()
        assert 100 <= length < 1000  # MAXLEN ~ trims whole nodes, never below the cap
    finally:
        await state.aclose()


async def test_alerts_reach_every_group_as_raised(state: State) -> None:
    """``events:alerts``: a mismatch alert read back by the Telegram bot's group is the alert the
    listener raised, details and millisecond time included."""
    raised = Alert(
        kind="position_mismatch", venue="bybit", account="lxalgo", symbol="BTCUSDT",
        message="venue -0.03 vs ledger -0.02",
        at=datetime(2025, 11, 7, 1, 55, 3, 123000, tzinfo=UTC),
        details={"venue_qty": "-0.03", "ledger_qty": "-0.02"},
    )
    await state.bus.alert(raised)
    (got,) = await state.bus.alerts.read("telegram", "phone")
    assert got.event == raised
    assert await state.bus.alerts.length() == 1


def test_a_corrupt_alert_is_refused_by_field() -> None:
    with pytest.raises(InvalidField, match=r"alert\.kind"):
        decode_alert(b'{"kind":"","venue":"bybit","account":"a","symbol":"BTCUSDT",'
                     b'"message":"m","at":"2025-11-07T01:55:03.123Z","details":{}}')
    with pytest.raises(InvalidField, match=r"alert\.at"):
        decode_alert(b'{"kind":"k","venue":"bybit","at":"yesterday"}')
