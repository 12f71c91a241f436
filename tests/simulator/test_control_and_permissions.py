"""The simulator as strict as Bybit where the desk's safety depends on it: a transfer-capable key
is reported as such (and refused by the client's start-up check), a read-only key's orders get
10005; and ``/sim/advance`` refuses absurd steps with HTTP 400 and never stalls its event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from simulator_kit import Client

from alphadesk.adapters.bybit import AccountConfig, BybitClient, Environment, Secret
from alphadesk.adapters.bybit.errors import Action, PermissionDenied, UnsafeApiKey
from alphadesk.domain import order_link
from alphadesk.domain.enums import Side
from alphadesk.domain.order_link import Purpose
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount, Simulator, load_accounts, run_simulator
from alphadesk.simulator.control import MAX_ADVANCE_BARS

TRADER = SimAccount("TRADERKEY01", "trader-secret-0123456789", name="trader")
TRANSFER = SimAccount("TRANSFERKEY1", "transfer-secret-0123456789", name="mover", transfer=True)
READ_ONLY = SimAccount("READONLYKEY1", "readonly-secret-0123456789", name="watcher",
                       read_only=True)


@pytest_asyncio.fixture
async def strict_sim(btc_csv: Path) -> AsyncIterator[Simulator]:
    async with run_simulator([btc_csv], [TRADER, TRANSFER, READ_ONLY],
                             history_bars=300) as running:
        yield running


def config(sim: Simulator, account: SimAccount) -> AccountConfig:
    return AccountConfig(account.name, account.key, Secret(account.secret), Environment.DEMO,
                         base_url=sim.base_url)


# -- permissions ---------------------------------------------------------------------------------

async def test_a_transfer_capable_key_is_reported_and_refused_at_start(
    strict_sim: Simulator,
) -> None:
    with pytest.raises(UnsafeApiKey) as info:
        await BybitClient.connect(config(strict_sim, TRANSFER))
    message = str(info.value)
    assert "Wallet:AccountTransfer" in message and "Wallet:SubMemberTransfer" in message
    assert info.value.action is Action.HALT
    assert TRANSFER.secret not in message and TRANSFER.key not in message
    # a plain key passes the same check against the same server
    client = await BybitClient.connect(config(strict_sim, TRADER))
    await client.close()


async def test_transfer_from_an_accounts_file_survives_to_the_permissions(
    btc_csv: Path, tmp_path: Path,
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[account]]\nkey = "FILEKEY00001"\nsecret = "file-secret-0123456789"\n'
                        'transfer = true\n')
    (account,) = load_accounts(accounts)
    async with run_simulator([btc_csv], [account], history_bars=10) as sim, \
            aiohttp.ClientSession() as session:
        info = await Client(session, sim.base_url).ok_get(account, "/v5/user/query-api")
    assert info["permissions"]["Wallet"] == ["AccountTransfer", "SubMemberTransfer"]


def test_an_accounts_file_flag_must_be_a_boolean(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[account]]\nkey = "k"\nsecret = "s"\nread_only = "false"\n')
    with pytest.raises(ValueError, match=r"account\[0\]\.read_only='false': must be true or false"):
        load_accounts(accounts)


async def test_a_read_only_key_has_the_recorded_shape_and_is_refused_for_trading(
    strict_sim: Simulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        info = await Client(session, strict_sim.base_url).ok_get(READ_ONLY, "/v5/user/query-api")
    # as in the recorded payload: read-only is the flag, the lists stay
    assert info["readOnly"] == 1 and info["permissions"]["ContractTrade"] == ["Order", "Position"]
    with pytest.raises(PermissionDenied, match="is read-only"):
        await BybitClient.connect(config(strict_sim, READ_ONLY), trading=True)
    reader = await BybitClient.connect(config(strict_sim, READ_ONLY), trading=False)
    await reader.close()


async def test_a_read_only_key_cannot_place_or_cancel_orders(strict_sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        raw = Client(session, strict_sim.base_url)
        order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
                 "qty": "0.01"}
        for path, body in (("/v5/order/create", order),
                           ("/v5/order/cancel-all", {"category": "linear"}),
                           ("/v5/position/set-leverage", {"category": "linear",
                            "symbol": "BTCUSDT", "buyLeverage": "2", "sellLeverage": "2"})):
            status, _, reply = await raw.post(READ_ONLY, path, body)
            assert status == 200 and reply["retCode"] == 10005, (path, reply)
            assert reply["retMsg"].startswith("Permission denied")
        # the same order with a trading key goes through: the refusal is the permission
        await raw.ok_post(TRADER, "/v5/order/create", order)
        positions = await raw.ok_get(READ_ONLY, "/v5/position/list",
                                     "category=linear&symbol=BTCUSDT")
    assert all(Decimal(p["size"]) == 0 for p in positions["list"])

    client = BybitClient(config(strict_sim, READ_ONLY))  # skipping the start-up check on purpose
    try:
        await client.rest.sync_clock()
        link = order_link.encode("watcher_001", Purpose.ENTRY)
        request = OrderRequest("watcher_001", "BTCUSDT", Side.BUY, Decimal("0.010"), link)
        with pytest.raises(PermissionDenied) as info:
            await client.trading.create_order(request)
    finally:
        await client.close()
    assert info.value.ret_code == 10005 and info.value.action is Action.HALT
    assert "/v5/order/create" in str(info.value)
    assert READ_ONLY.secret not in str(info.value)


# -- /sim/advance --------------------------------------------------------------------------------

async def _advance(session: aiohttp.ClientSession, sim: Simulator, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    async with session.post(f"{sim.control_url}/advance", data=data,
                            headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"bars": 1e9}, "bars=1000000000.0: must be an integer"),
        ({"bars": 10**9}, f"bars=1000000000: must be 0..{MAX_ADVANCE_BARS}"),
        ({"bars": -1}, f"bars=-1: must be 0..{MAX_ADVANCE_BARS}"),
        ({"bars": "5"}, "bars='5': must be an integer"),
        ({"bars": True}, "bars=True: must be an integer"),
        ({"to_ms": 1.5}, "to_ms=1.5: must be an integer"),
        ([1], "body=[1]: must be"),
        ("{not json", "body: is not JSON"),
    ],
)
async def test_a_bad_advance_is_a_400_naming_the_field_and_moves_nothing(
    strict_sim: Simulator, body: Any, expected: str,
) -> None:
    before = strict_sim.exchange.now_ms
    async with aiohttp.ClientSession() as session:
        status, reply = await _advance(session, strict_sim, body)
    assert status == 400
    assert expected in reply["error"]
    assert strict_sim.exchange.now_ms == before


async def test_an_advance_to_the_past_or_too_far_ahead_is_refused(strict_sim: Simulator) -> None:
    now, step = strict_sim.exchange.now_ms, strict_sim.exchange.replay.step_ms
    async with aiohttp.ClientSession() as session:
        status, reply = await _advance(session, strict_sim, {"to_ms": now - 1})
        assert status == 400 and f"to_ms={now - 1}: is before" in reply["error"]
        far = now + (MAX_ADVANCE_BARS + 1) * step
        status, reply = await _advance(session, strict_sim, {"to_ms": far})
        assert status == 400 and f"to_ms={far}: is more than" in reply["error"]
        status, reply = await _advance(session, strict_sim, {"bars": 3})
    assert status == 200 and reply["nowMs"] == now + 3 * step


async def test_a_long_advance_yields_to_other_requests(strict_sim: Simulator) -> None:
    """While a long advance plays, the simulator still answers: a state read lands between two
    chunks and sees a clock part of the way (without yielding it sees only start or end)."""
    start, step = strict_sim.exchange.now_ms, strict_sim.exchange.replay.step_ms
    bars = 3000
    seen: list[int] = []
    async with aiohttp.ClientSession() as session:
        advance = asyncio.create_task(_advance(session, strict_sim, {"bars": bars}))
        while not advance.done():
            async with session.get(f"{strict_sim.control_url}/state") as resp:
                seen.append((await resp.json())["nowMs"])
        status, reply = await advance
    assert status == 200 and reply["nowMs"] == start + bars * step
    assert any(start < now < start + bars * step for now in seen), seen[:5]
