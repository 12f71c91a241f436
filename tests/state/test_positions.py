"""Positions: ordered, idempotent writes and the rebuild swap, on Redis and in process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.positions import fold
from alphadesk.engine.state_ports import PositionState
from alphadesk.testing.builders import make_fill

D = Decimal

State = RedisState | MemoryState
T0 = datetime(2025, 11, 7, 1, 55, tzinfo=UTC)
BOT = "shortseller_001"


def pos(
    seq: int,
    size: str = "1",
    *,
    symbol: str = "BTCUSDT",
    at: float = 0,
    upnl: str = "0",
    side: Side | None = Side.SELL,
) -> PositionState:
    return PositionState(
        bot_id=BOT,
        symbol=symbol,
        size=D(size),
        side=side if D(size) else None,
        avg_price=D("95900.1") if D(size) else D(0),
        unrealized_pnl=D(upnl),
        updated_at=T0 + timedelta(seconds=at),
        seq=seq,
    )


async def test_put_then_get_round_trips_exactly(state: State) -> None:
    written = pos(3, "0.500", upnl="-12.3400")
    assert await state.positions.put_position(written) is True
    read = await state.positions.get_position(BOT, "BTCUSDT")
    assert read == written
    assert read is not None and (str(read.size), str(read.unrealized_pnl)) == ("0.500", "-12.3400")
    assert await state.positions.get_position(BOT, "ETHUSDT") is None


async def test_stale_update_never_overwrites_a_newer_one(state: State) -> None:
    store = state.positions
    assert await store.put_position(pos(5, "2", at=10))
    assert await store.put_position(pos(4, "9", at=20)) is False  # older seq, later clock
    assert await store.put_position(pos(5, "9", at=10)) is False  # replay of the same version
    assert await store.put_position(pos(5, "9", at=9)) is False  # older mark at the same seq
    assert (await store.get_position(BOT, "BTCUSDT")) == pos(5, "2", at=10)
    refresh = pos(5, "2", at=11, upnl="7.5")  # mark-to-market: same seq, later time
    assert await store.put_position(refresh)
    assert await store.put_position(pos(6, "1", at=1))  # a new fill wins whatever its time
    assert (await store.get_position(BOT, "BTCUSDT")) == pos(6, "1", at=1)


async def test_batch_put_reports_each_write_in_order(state: State) -> None:
    flags = await state.positions.put_positions(
        [
            pos(1, symbol="BTCUSDT"),
            pos(2, symbol="BTCUSDT"),
            pos(1, symbol="BTCUSDT"),
            pos(1, symbol="ETHUSDT"),
        ]
    )
    assert flags == [True, True, False, True]
    assert (await state.positions.get_position(BOT, "BTCUSDT")) == pos(2)
    assert sorted(await state.positions.positions(BOT)) == ["BTCUSDT", "ETHUSDT"]


async def test_flat_position_is_a_tombstone_a_stale_open_cannot_revive(state: State) -> None:
    store = state.positions
    assert await store.put_position(pos(2, "0", at=5))
    flat = await store.get_position(BOT, "BTCUSDT")
    assert flat is not None and flat.is_flat and flat.side is None
    assert await store.put_position(pos(1, "3")) is False
    assert (await store.get_position(BOT, "BTCUSDT")) == flat


async def test_rebuild_swap_removes_vanished_positions(state: State) -> None:
    store = state.positions
    await store.put_positions([pos(9, symbol=s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")])
    other = PositionState("lxalgo_001", "BTCUSDT", D(1), Side.BUY, D(1), D(0), T0, 1)
    await store.put_position(other)
    rebuilt = [pos(2, "0.1", symbol="ETHUSDT"), pos(1, "3", symbol="XRPUSDT")]
    await store.replace_all_positions(BOT, rebuilt)  # lower seqs: the ledger still wins
    assert await store.positions(BOT) == {"ETHUSDT": rebuilt[0], "XRPUSDT": rebuilt[1]}
    assert await store.get_position(BOT, "BTCUSDT") is None
    assert await store.get_position("lxalgo_001", "BTCUSDT") == other  # other bots untouched
    await store.replace_all_positions(BOT, [])
    assert await store.positions(BOT) == {}


async def test_rebuild_refuses_foreign_or_repeated_positions(state: State) -> None:
    other = PositionState("lxalgo_001", "BTCUSDT", D(1), Side.BUY, D(1), D(0), T0, 1)
    with pytest.raises(InvalidField) as err:
        await state.positions.replace_all_positions(BOT, [other])
    assert err.value.field == "position.bot_id"
    with pytest.raises(InvalidField):
        await state.positions.replace_all_positions(BOT, [pos(1), pos(2)])


async def test_state_from_a_ledger_position() -> None:
    fills = [make_fill("Sell", "2", "100", seconds=1), make_fill("Buy", "0.5", "90", seconds=2)]
    position = fold(BOT, "BTCUSDT", fills)
    state = PositionState.from_position(position, seq=len(fills), updated_at=T0, mark_price=D("95"))
    assert (state.side, state.size, state.avg_price) == (Side.SELL, D("1.5"), D("100"))
    assert state.unrealized_pnl == D("7.5")
    assert state.seq == 2


def test_invalid_states_name_the_field() -> None:
    with pytest.raises(InvalidField) as err:
        PositionState(BOT, "BTCUSDT", D(1), None, D(1), D(0), T0, 1)
    assert err.value.field == "position.side"
    with pytest.raises(InvalidField) as err:
        PositionState(BOT, "BTCUSDT", D(1), Side.BUY, D(1), D(0), T0.replace(tzinfo=None), 1)
    assert err.value.field == "position.updated_at"
    with pytest.raises(InvalidField) as err:
        PositionState(BOT, "BTCUSDT", D(1), Side.BUY, D(1), D(0), T0, -1)
    assert err.value.field == "position.seq"
    with pytest.raises(InvalidField) as err:
        PositionState(BOT, "BTCUSDT", D(-1), Side.BUY, D(1), D(0), T0, 1)
    assert err.value.field == "position.size"


@pytest.mark.redis
async def test_redis_value_has_the_documented_shape(
    redis_url: str, redis_prefix: str, redis_client: Redis
) -> None:
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        await state.positions.put_position(pos(7, "0.5", at=0.1234, upnl="1.50"))
        await state.positions.put_position(pos(1, "0", symbol="ETHUSDT"))
    finally:
        await state.aclose()
    raw = await redis_client.get(f"{redis_prefix}position:shortseller_001:BTCUSDT")
    assert raw is not None
    assert json.loads(raw) == {
        "size": "0.5",
        "side": "Sell",
        "avg_price": "95900.1",
        "unrealized_pnl": "1.50",
        "updated_at": "2025-11-07T01:55:00.123Z",
        "seq": 7,
    }
    flat_raw = await redis_client.get(f"{redis_prefix}position:shortseller_001:ETHUSDT")
    assert flat_raw is not None
    flat = json.loads(flat_raw)
    assert (flat["side"], flat["size"]) == ("None", "0")


@pytest.mark.redis
async def test_a_foreign_value_is_replaced_by_a_versioned_write(
    redis_url: str, redis_prefix: str, redis_client: Redis
) -> None:
    key = f"{redis_prefix}position:shortseller_001:BTCUSDT"
    await redis_client.set(key, b"0.5")  # the seed's AlphaDBClient wrote a bare float string
    state = RedisState.from_url(redis_url, namespace=redis_prefix)
    try:
        with pytest.raises(InvalidField) as err:
            await state.positions.get_position(BOT, "BTCUSDT")
        assert err.value.field == key
        assert await state.positions.put_position(pos(1)) is True
        assert await state.positions.get_position(BOT, "BTCUSDT") == pos(1)
    finally:
        await state.aclose()


def bad_key(seq: int, symbol: str) -> PositionState:
    """A state whose symbol no key may hold (a ledger row from before symbols were checked at
    the wire): PositionState itself takes it, only a key cannot."""
    return pos(seq, symbol=symbol)


@pytest.mark.parametrize("symbol", ["BTC:USDT", "BTC USDT", "ETH*"])
async def test_a_key_that_cannot_be_written_costs_only_itself(state: State, symbol: str) -> None:
    good, other = pos(1, "0.007"), pos(2, "0.3", symbol="ETHUSDT")
    applied = await state.positions.put_positions([good, bad_key(1, symbol), other])
    assert applied == [True, False, True]
    assert await state.positions.get_position(BOT, "BTCUSDT") == good
    assert await state.positions.positions(BOT) == {"BTCUSDT": good, "ETHUSDT": other}


async def test_a_rebuild_writes_every_key_it_can(state: State) -> None:
    await state.positions.put_position(pos(1, "0.002"))
    fresh = [pos(5, "0.007"), bad_key(5, "BTC:USDT"), pos(6, "1", symbol="SOLUSDT")]
    await state.positions.replace_all_positions(BOT, fresh)
    assert await state.positions.positions(BOT) == {"BTCUSDT": fresh[0], "SOLUSDT": fresh[2]}
