"""Hostile execution rows cost only themselves: a seeded fuzz through a real listener.

Random good executions are mixed with hostile ones (NUL and control characters, huge and tiny
exponents, NaN, wrong JSON types, far dates, symbols with ``:``, spaces or lower case) and sent
by the local Bybit simulator over the private WebSocket (appended to a real execution push) and
over REST (appended to the gap-fill's ``/v5/execution/list`` page). Every good fill must be in
the ledger once with exactly its fields; every hostile row must be in the dead-letter store with
its raw JSON and a reason naming the field; an alert is raised for each; the listener stays
healthy, and a gap-fill that meets the same rows again adds no second letter.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from listener_support import Ledger, fills, sqlite_ledger
from sim_support import BTC_5M, FAST_WS, eventually, market, sim_account, spec, trader, venue_clock

from alphadesk.adapters.memory import MemoryState
from alphadesk.adapters.redis import RedisState
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.spool.dead_letters import JsonlDeadLetters
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import Fill, fill_as_recorded
from alphadesk.engine.announcer import rebuild_positions
from alphadesk.engine.health import HealthBook
from alphadesk.engine.ingest import Ingest
from alphadesk.engine.state_ports import PositionStore
from alphadesk.listener.service import Listener
from alphadesk.simulator import run_simulator
from harness import data, keyspace  # type: ignore[import-not-found]

BOT = "shortseller_001"
SEED = 20251207
D = Decimal
_RECORDED = data.bybit_payload("ws_account_execution")["data"][0]

# (field, hostile value, what the reason must name). Each is one field of an otherwise good row.
HOSTILE: list[tuple[str, Any, str]] = [
    ("execId", "fuzz\x00nul", "fill.exec_id"),
    ("execId", "fuzz\x1b[2Jesc", "control characters"),
    ("execId", 12345, "execId"),
    ("orderId", "ord\x00er", "fill.order_id"),
    ("symbol", "BTC:USDT", "execution.symbol"),
    ("symbol", "BTC USDT", "execution.symbol"),
    ("symbol", "btcusdt", "execution.symbol"),
    ("symbol", "BTCUSDT-26DEC25", "execution.symbol"),
    ("symbol", "BTC\x00USDT", "execution.symbol"),
    ("symbol", "", "execution.symbol"),
    ("symbol", None, "symbol"),
    ("execPrice", "1e400", "fill.price"),
    ("execPrice", "1E-400", "fill.price"),
    ("execPrice", "NaN", "execution.execPrice"),
    ("execPrice", "-Infinity", "execution.execPrice"),
    ("execPrice", "-95900.1", "fill.price"),
    ("execPrice", "95900.1.0", "execution.execPrice"),
    ("execPrice", 95900.1, "execPrice"),
    ("execQty", "1e-400", "fill.qty"),
    ("execQty", "1e400", "fill.qty"),
    ("execQty", "0", "fill.qty"),
    ("execQty", None, "execQty"),
    ("execFee", "1e400", "fill.fee"),
    ("execFee", "-0.5", "must be >= 0 on a taker fill"),
    ("execFee", "sNaN", "execution.execFee"),
    ("execFee", {"v": 1}, "execFee"),
    ("execTime", "253402300800000", "execution.execTime"),  # the year 10000
    ("execTime", "9" * 40, "execution.execTime"),
    ("execTime", "-1", "execution.execTime"),
    ("execTime", "4102444800000", "more than a day after the venue"),  # 2100
    ("execTime", "1000", "fill.exec_time"),  # 1970
    ("execTime", "1e3", "execution.execTime"),
    ("execTime", ["1"], "execTime"),
    ("side", "BUY", "execution.side"),
    ("execType", "UNKNOWN", "execution.execType"),
    ("isMaker", "yes", "isMaker"),
]


def good_row(rng: random.Random, n: int, now_ms: int, via: str) -> dict[str, Any]:
    """A row Bybit could send: a trade (a maker's fee may be a rebate) or a funding payment."""
    row = copy.deepcopy(_RECORDED)
    price = D(rng.randint(1, 10**7)) / 10 ** rng.randint(0, 6)
    qty = D(rng.randint(1, 10**5)) / 1000
    maker = rng.random() < 0.4
    rate = D("-0.0001") if maker and rng.random() < 0.5 else D("0.00055")
    funding = rng.random() < 0.15
    fee = (price * qty * (D(rng.randint(-500, 500)) / 10**6 if funding else rate)).normalize()
    row.update(
        execId=f"fuzz-{via}-good-{n:03d}-{rng.getrandbits(32):08x}",
        symbol=rng.choice(["BTCUSDT", "ETHUSDT", "1000PEPEUSDT", "SOLUSDT"]),
        side=rng.choice(["Buy", "Sell"]),
        execPrice=str(price),
        execQty=str(qty),
        execFee=format(fee, "f"),
        execType="Funding" if funding else "Trade",
        isMaker=maker and not funding,
        execTime=str(now_ms - rng.randint(0, 3_600_000)),
        closedSize="0",
        orderLinkId="",  # the account's one bot
    )
    return dict(row)


def hostile_rows(rng: random.Random, n: int, now_ms: int, via: str) -> list[dict[str, Any]]:
    rows = []
    for i, (field, value, _) in enumerate(HOSTILE):
        row = good_row(rng, n + i, now_ms, via)
        row.update(execType="Trade", isMaker=False, execId=f"fuzz-{via}-bad-{i:03d}")
        row[field] = value
        rows.append(row)
    return rows


Rows = list[dict[str, Any]]


def mixed(rng: random.Random, via: str, now_ms: int) -> tuple[Rows, Rows]:
    good = [good_row(rng, i, now_ms, via) for i in range(rng.randint(8, 15))]
    bad = hostile_rows(rng, 100, now_ms, via)
    rows = good + bad
    rng.shuffle(rows)
    return rows, good


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[Any]:
    async with run_simulator([market_csv(BTC_5M)], [sim_account(1)], history_bars=300) as s:
        yield s


@pytest_asyncio.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    made = await sqlite_ledger(tmp_path / "ledger.db")
    yield made
    await made.store.close()


def _same(row: dict[str, Any], fill: Any) -> None:
    assert fill.symbol == row["symbol"] and fill.side.value == row["side"]
    assert str(fill.price) == row["execPrice"] and str(fill.qty) == row["execQty"]
    assert fill.fee == D(row["execFee"]) and fill.is_maker is row["isMaker"]
    assert fill.exec_type.value == row["execType"] and fill.bot_id == BOT
    assert fill.exec_time == from_epoch_ms("t", row["execTime"])


async def test_hostile_rows_are_set_aside_and_good_ones_recorded_once(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    state = MemoryState()
    store = JsonlDeadLetters.beside(tmp_path / "spool")
    ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"), bus=state.bus,
                    positions=state.positions, markets=state.market, alerts=state.bus)
    listener = Listener(ingest, [spec(sim, sim_account(1), BOT)], venue_clock=venue_clock(sim),
                        ws_settings=FAST_WS, housekeeping_s=0.05,
                        health_file=tmp_path / "health.json", dead_letters=store)
    await listener.start()
    client = await trader(sim, sim_account(1))
    feed = listener.feeds[0]
    try:
        ws_rows, ws_good = mixed(rng, "ws", sim.now_ms)
        sim.faults.extra_rows(ws_rows, topic="execution")
        await market(client, BOT, "BTCUSDT", Side.BUY, "0.01")  # its push carries the rows
        ws_ids = {r["execId"] for r in ws_good}
        await eventually(lambda: _has(ledger, ws_ids))
        await eventually(lambda: store.count() == len(HOSTILE))

        rest_rows, rest_good = mixed(rng, "rest", sim.now_ms)
        sim.faults.extra_rows(rest_rows, path="/v5/execution/list", count=2)
        await feed.run_gapfill()
        assert feed.gapfill.consecutive_failures == 0 and feed.gapfill.last is not None
        await feed.run_gapfill()  # the same page again: nothing new, nothing twice

        fills = {f.exec_id: f for f in await ledger.writer.read_fills()}
        ids = await _ids(ledger)
        assert len(ids) == len(set(ids))  # each execution once
        for row in ws_good + rest_good:
            _same(row, fills[row["execId"]])
        assert not any(i.startswith(("fuzz-ws-bad", "fuzz-rest-bad")) for i in ids)

        letters = store.read()
        assert len(letters) == 2 * len(HOSTILE) == store.count()
        for via, rows in (("ws", ws_rows), ("rest", rest_rows)):
            mine = [x for x in letters if x.source == f"{via}:execution"]
            assert len(mine) == len(HOSTILE)
            raws = [json.loads(x.raw) for x in mine]
            for i, (field, value, needle) in enumerate(HOSTILE):
                row_id = value if field == "execId" else f"fuzz-{via}-bad-{i:03d}"
                (row,) = [r for r in rows if r["execId"] == row_id]
                (letter,) = [x for x, raw in zip(mine, raws, strict=True) if raw == row]
                assert needle in letter.reason, (field, value, letter.reason)
                assert letter.venue == "bybit" and letter.account == "acct1"

        alerts = await state.bus.alerts.read("t", "c", count=1000)
        assert sum(a.event.kind == "dead_letter" for a in alerts) == 2 * len(HOSTILE)
        await listener.tick()
        report = listener.report()
        assert report.healthy, report.problems
        assert report.dead_letters == 2 * len(HOSTILE)
        assert json.loads((tmp_path / "health.json").read_text())["dead_letters"] == len(letters)
    finally:
        await client.close()
        await listener.close()


async def test_health_is_not_healthy_while_the_gap_fill_keeps_failing(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"))
    listener = Listener(ingest, [spec(sim, sim_account(1), BOT)], venue_clock=venue_clock(sim),
                        ws_settings=FAST_WS, housekeeping_s=3600)
    await listener.start()
    feed = listener.feeds[0]
    try:
        assert listener.report().healthy
        sim.faults.fail_rest(count=100, ret_code=10001, path="/v5/execution/list")
        for tries in range(1, 4):
            await feed.run_gapfill()
            assert feed.gapfill.consecutive_failures == tries and feed.owes_gapfill
            assert listener.report().healthy is (tries < 3)
        report = listener.report()
        assert any("gap-fill failed 3 times in a row" in p for p in report.problems)
        assert report.accounts[0].gap_fill_failures == 3 and report.accounts[0].gap_fill_error
        sim.faults.clear()
        await feed.run_gapfill()
        assert listener.report().healthy and not feed.owes_gapfill
    finally:
        await listener.close()


def test_health_book_counts_gap_fill_failures_in_a_row() -> None:
    book = HealthBook(["a"], max_gapfill_failures=2)
    book.connected("a", True)
    book.gap_fill_failed("a", "OverflowError: date value out of range")
    assert book.report(0).healthy
    book.gap_fill_failed("a", "OverflowError: date value out of range")
    report = book.report(0, dead_letters=4)
    assert report.problems == (
        "a: gap-fill failed 2 times in a row (OverflowError: date value out of range)",
    )
    assert json.loads(report.to_json())["dead_letters"] == 4
    book.gap_filled("a", None)
    assert book.report(0).healthy


async def _ids(ledger: Ledger) -> list[str]:
    """Every recorded execution id, trades and funding (their tables are apart)."""
    return await ledger.exec_ids("fills") + await ledger.exec_ids("funding")


async def _has(ledger: Ledger, ids: set[str]) -> bool:
    return ids <= set(await _ids(ledger))



def _legacy_fill(symbol: str, exec_id: str) -> Any:
    """A fill as a ledger written before symbols were checked holds it (read back as stored)."""
    good = fills(1)[0]
    data = {name: getattr(good, name) for name in good.__dataclass_fields__}
    return fill_as_recorded(data | {"symbol": symbol, "exec_id": exec_id})


@pytest_asyncio.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def positions(request: pytest.FixtureRequest) -> AsyncIterator[PositionStore]:
    if request.param == "memory":
        yield MemoryState().positions
        return
    url = request.getfixturevalue("redis_url")  # sync: fails by name when Redis is missing
    async with keyspace.isolated_prefix(url) as prefix:
        state = RedisState.from_url(url, namespace=prefix)
        try:
            yield state.positions
        finally:
            await state.aclose()


async def test_a_position_whose_key_cannot_be_written_costs_only_itself(
    ledger: Ledger, tmp_path: Path, positions: PositionStore
) -> None:
    """The incident: a fill with symbol ``BTC:USDT`` in the ledger made every state write fail
    ("state store still unavailable" for ever). Now the good key is written, live and rebuilt."""
    legacy = _legacy_fill("BTC:USDT", "legacy-colon-1")
    with pytest.raises(InvalidField, match="fill.symbol"):
        Fill(**{n: getattr(legacy, n) for n in legacy.__dataclass_fields__})  # refused anew
    ingest = Ingest(ledger.writer, DiskSpool(tmp_path / "spool"), positions=positions)
    good = fills(2, qty="0.0035")
    await ingest.ingest([good[0], legacy, good[1]])
    held = await positions.get_position(good[0].bot_id, "BTCUSDT")
    assert held is not None and held.size == D("0.0070")
    assert ingest.stats.state_failures == 0 and ingest.pending_state == 0
    await positions.replace_all_positions(good[0].bot_id, [])  # Redis lost its data
    written = await rebuild_positions(ledger.writer, positions)
    assert written == {good[0].bot_id: 1}
    assert set(await positions.positions(good[0].bot_id)) == {"BTCUSDT"}
