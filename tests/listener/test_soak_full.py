"""The issue's soak: 3 accounts, 5,000+ executions with socket drops, duplicates, reordering and
REST gap-fill failures (5xx, 10006); the listener process SIGKILLed at random points (faults
still active, fills still executing, batches in flight) and restarted twice; PgBouncer/PostgreSQL
and Redis each taken away and brought back once.

At the end, against the simulator's own records (the venue):
- the ledger holds every execution once, every field exact (price, qty, fee, fee currency, exec
  type, side, bot, order ids, exec time ...), and as many rows as the venue has executions;
- ``events:fills`` announced every execution exactly once (counted per exec_id over the whole
  run, the stream Redis lost with its restart included);
- every position, in Redis and in ``trading.positions``, equals the venue's to the last digit:
  size, side and average price.

The plan (kill points, how long the listener stays dead, when the outages come) and the faults
are drawn from one seed, printed at the start; ``ALPHADESK_SOAK_SEED=<seed>`` replays a plan
(``ALPHADESK_SOAK_LOG_LEVEL=INFO`` makes the listener's log, quoted by failures, say more).

The restarts are real: this test runs its own PostgreSQL (behind its own PgBouncer, transaction
pooling) and its own Redis (no persistence, so its restart loses every key and the listener must
rebuild the live positions from the ledger), started from the local binaries in a temporary
folder of its own, and stopped (whatever happens) by a finalizer.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sim_support import BTC_5M, ETH_5M, LAUNCH, eventually

from alphadesk.adapters.redis.state import RedisState
from alphadesk.adapters.spool import decode_fill
from alphadesk.adapters.storage import migrate
from alphadesk.domain import order_link
from alphadesk.domain.checks import from_epoch_ms
from alphadesk.domain.enums import OrderType, Side
from alphadesk.domain.requests import OrderRequest
from alphadesk.simulator import SimAccount, run_simulator
from alphadesk.simulator.account_payloads import execution_payload
from harness.private_servers import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
    private_root,
)

BOTS = (("shortseller_001", "SHORTSELLER"), ("lxalgo_001", "LXALGO"),
        ("momentum_001", "MOMENTUM"))
ORDERS = 5_000
QTY = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01")}
FILLS_PATH = "/v5/execution/list"
SEED_ENV = "ALPHADESK_SOAK_SEED"
# Every column of a recorded execution but the row's own (id, created_at, account: the label the
# desk gives the account, checked apart).
COLUMNS = ("exec_id", "bot_id", "symbol", "order_id", "client_order_id", "side", "exec_price",
           "exec_qty", "exec_time", "commission", "fee_currency", "exec_type", "is_maker",
           "closed_size", "order_type")


class ListenerProcess:
    def __init__(self, env: dict[str, str], args: list[str], log: Path) -> None:
        self.log = log
        self.env = env
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", LAUNCH, "listener", *self.args, env=self.env,
                stdout=asyncio.subprocess.PIPE, stderr=log,
            )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert b"listener: recording" in line, self.log.read_text()[-3000:]
        self.starts += 1

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise


class Trader:
    """Market orders placed on the simulator's exchange in-process (as its REST route does), in
    bursts of random size, by a task of its own up to the count the test asks for (:meth:`until`):
    each kill and outage happens while fills keep executing and batches are in flight."""

    def __init__(self, sim: Any, accounts: list[SimAccount], rng: random.Random) -> None:
        self.sim = sim
        self.accounts = accounts
        self.rng = rng
        self.placed = 0
        self.target = 0
        self._more = asyncio.Event()
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    def _place(self) -> None:
        rng, exchange = self.rng, self.sim.exchange
        i = rng.randrange(len(self.accounts))
        bot = BOTS[i][0]
        symbol = rng.choice(sorted(QTY))
        request = OrderRequest(
            bot_id=bot, symbol=symbol, side=rng.choice((Side.BUY, Side.SELL)),
            qty=QTY[symbol] * rng.randint(1, 5), order_type=OrderType.MARKET,
            order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY),
        )
        outcome = exchange.engine.place(self.accounts[i].name, request, exchange.now_ms)
        exchange.publish_events(outcome.events)
        self.placed += 1
        if self.placed % 100 == 0:
            self.sim.advance(bars=1)

    async def run(self) -> None:
        """Trade up to the target, then wait for a higher one; until cancelled."""
        while True:
            if self.placed >= self.target:
                self._more.clear()
                await self._more.wait()
                continue
            burst = min(self.rng.randint(1, 25), self.target - self.placed)
            for _ in range(burst):
                self._place()
            for n, waiter in [w for w in self._waiting if w[0] <= self.placed]:
                self._waiting.remove((n, waiter))
                if not waiter.done():
                    waiter.set_result(None)
            await asyncio.sleep(0.003 * burst)  # the pace of the trading, not a wait for anything

    def ask(self, n: int) -> None:
        """Trade (in the background) until ``n`` orders have been placed."""
        self.target = max(self.target, n)
        self._more.set()

    async def until(self, n: int) -> None:
        """Return once ``n`` orders have been placed."""
        self.ask(n)
        if self.placed >= n:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append((n, waiter))
        await asyncio.wait_for(waiter, 120)


class Announcements:
    """Every ``events:fills`` entry, counted per exec_id, across a Redis restart: the stream is
    read up to its end before Redis is killed (its writes paused, so nothing is added unseen)."""

    def __init__(self, state: RedisState) -> None:
        self.state = state
        self.counts: Counter[str] = Counter()
        self.streams: list[Counter[str]] = [Counter()]  # the same, per Redis lifetime
        self._after = "-"

    async def harvest(self) -> None:
        client, stream = self.state.client, self.state.keys.fills_stream
        while True:
            low = "-" if self._after == "-" else f"({self._after}"
            entries = await client.xrange(stream, min=low, max="+", count=1000)
            if not entries:
                return
            for entry_id, fields in entries:
                exec_id = decode_fill(fields[b"data"]).exec_id
                self.counts[exec_id] += 1
                self.streams[-1][exec_id] += 1
                self._after = entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    def new_stream(self) -> None:
        self._after = "-"
        self.streams.append(Counter())

    def twice(self) -> str:
        """Where the fills announced more than once were announced (for the failure)."""
        repeated = {k for k, n in self.counts.items() if n > 1}
        within = [len({k for k, n in c.items() if n > 1}) for c in self.streams]
        across = sum(1 for k in repeated if sum(1 for c in self.streams if k in c) > 1)
        return (f"{len(repeated)} fills announced more than once (twice within one stream, per "
                f"Redis lifetime: {within}; in both streams: {across}), e.g. "
                f"{sorted(repeated)[:3]}")


async def _redis_call(call: Callable[[], Any]) -> Any:
    """A read from the test's side; a connection the restart cut is retried on a fresh one."""
    for attempt in range(50):
        try:
            return await call()
        except (RedisConnectionError, ConnectionError, OSError):
            if attempt == 49:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def _chaos(sim: Any, rng: random.Random, stop: asyncio.Event,
                 quiet: asyncio.Event) -> Counter[str]:
    """Faults at random, gap-fill ones included; none armed while a listener starts (``quiet``):
    a held-back (reordered) auth reply would stall its handshake until it times out, which tests
    patience, not recording. Faults armed before a kill stay armed through it."""
    armed: Counter[str] = Counter()
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.2, 0.8))  # when the next fault comes, not a wait
        if quiet.is_set():
            continue
        fault = rng.choice(("drop", "duplicate", "duplicate", "reorder", "reorder",
                            "gapfill-5xx", "gapfill-10006"))
        # One fault of a kind at a time: piled up, they would starve the recovery they test (a
        # held-back auth reply waits for a message that never comes before auth; a gap-fill
        # retried every few seconds would meet a new failure each time).
        # A socket fault only while every account's socket is up and subscribed: the next
        # messages are then pushes, not a reconnect's auth reply held back until it times out.
        if fault in ("drop", "reorder") and (sim.faults.ws or not _all_subscribed(sim)):
            fault = "duplicate"
        if fault.startswith("gapfill") and any(f.path == FILLS_PATH for f in sim.faults.rest):
            fault = "duplicate"
        if fault == "drop":
            sim.faults.drop_ws_after(rng.randint(5, 50), channel="private")
            if rng.random() < 0.5 and not any(f.path == FILLS_PATH for f in sim.faults.rest):
                fault = rng.choice(("gapfill-5xx", "gapfill-10006"))  # the reconnect's gap-fill
                armed["drop"] += 1  # fails at first
        if fault == "duplicate":
            sim.faults.duplicate_execution(rng.randint(1, 10))
        elif fault == "reorder":
            sim.faults.reorder_ws(rng.randint(1, 5), channel="private")
        elif fault == "gapfill-5xx":
            sim.faults.server_error(rng.randint(1, 2), status=rng.choice((500, 502, 503)),
                                    path=FILLS_PATH)
        elif fault == "gapfill-10006":
            sim.faults.rate_limit(rng.randint(1, 2), path=FILLS_PATH)
        armed[fault] += 1
    return armed


def _all_subscribed(sim: Any) -> bool:
    subscribed = {s.account.name for s in list(sim.exchange.subscribers)
                  if s.channel == "private" and s.account is not None and s.wants("execution")}
    return len(subscribed) == len(BOTS)


def _logged(listener: ListenerProcess, text: str) -> bool:
    return text in listener.log.read_text()


def _venue_executions(sim: Any, account: str) -> list[Any]:
    """The simulator's own record of the account's executions (all pages)."""
    engine = sim.exchange.engine
    found: list[Any] = []
    cursor = ""
    while True:
        page = engine.executions(account, limit=100, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return found


def _expected_row(execution: Any, bot: str) -> dict[str, Any]:
    f = execution.fill
    return {
        "exec_id": f.exec_id, "bot_id": bot, "symbol": f.symbol, "order_id": f.order_id,
        "client_order_id": f.order_link_id, "side": f.side.value, "exec_price": f.price,
        "exec_qty": f.qty, "exec_time": from_epoch_ms("execTime", execution.exec_ms),
        "commission": f.fee, "fee_currency": f.fee_currency, "exec_type": f.exec_type.value,
        "is_maker": f.is_maker, "closed_size": f.closed_size,
        "order_type": execution_payload(execution)["orderType"],  # "UNKNOWN" on a funding
    }


def _position_diffs(venue: Any, ours: tuple[Decimal, Side | None, Decimal] | None,
                    where: str) -> list[str]:
    """Exact: size, side and average price; a flat venue position wants flat (or nothing)."""
    if venue.size == 0:
        if ours is None or (ours[0] == 0 and ours[1] is None):
            return []
        return [f"{where}: venue flat, ours {ours}"]
    wanted = (venue.size, venue.side, venue.avg_price)
    return [] if ours == wanted else [f"{where}: venue {wanted}, ours {ours}"]


@pytest.fixture
def soak_root() -> Iterator[Path]:
    with private_root("alphadesk-soak-") as root:
        yield root


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_full_soak_with_kills_and_restarts(
    market_csv: Callable[[str], Path], soak_root: Path
) -> None:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"full soak seed {seed} (replay: {SEED_ENV}={seed})")
    plan = random.Random(seed)
    accounts = [SimAccount(f"SOAK{i}", f"soak-secret-{i}-0123456789", name=f"acct{i}",
                           balance=Decimal(10_000_000)) for i in range(3)]
    bot_of = {a.name: bot for (bot, _), a in zip(BOTS, accounts, strict=True)}
    root = soak_root
    async with (
        private_postgres(root / "postgres") as pg,
        private_redis(root / "redis") as redis,
    ):
        await asyncio.to_thread(migrate.upgrade, pg.bouncer_dsn)
        state = RedisState.from_url(redis.url)
        announced = Announcements(state)
        async with run_simulator([market_csv(BTC_5M), market_csv(ETH_5M)], accounts,
                                 history_bars=300) as sim:
            env = {**os.environ, "DATABASE_URL": pg.bouncer_dsn, "REDIS_URL": redis.url,
                   "BYBIT_DEMO": "true", "BYBIT_BASE_URL": sim.base_url,
                   "LOG_LEVEL": os.environ.get("ALPHADESK_SOAK_LOG_LEVEL", "WARNING")}
            for (_bot, prefix), account in zip(BOTS, accounts, strict=True):
                env[f"{prefix}_BYBIT_API_KEY"] = account.key
                env[f"{prefix}_BYBIT_API_SECRET"] = account.secret
            listener = ListenerProcess(env, [
                "--symbols", "--gapfill-every", "5",
                "--spool-dir", str(root / "spool"),
                "--health-file", str(root / "health.json")], root / "listener.log")
            await listener.start()
            trader = Trader(sim, accounts, random.Random(seed + 1))
            trading = asyncio.create_task(trader.run())
            stop = asyncio.Event()
            quiet = asyncio.Event()
            chaos = asyncio.create_task(_chaos(sim, random.Random(seed + 2), stop, quiet))
            kills: list[tuple[int, float]] = []

            async def kill_at(n: int) -> None:
                """SIGKILL at a random moment (up to 50 ms) after order ``n``: the faults still
                armed, the trader going on, so batches are in flight (read, being committed,
                committed but not yet announced) wherever the kill falls."""
                dead_for = plan.randint(200, 500)
                await trader.until(n)
                trader.ask(n + dead_for)  # trading goes on through the kill
                pause = plan.uniform(0, 0.05)
                await asyncio.sleep(pause)  # a random kill time, not a wait for anything
                kills.append((trader.placed, pause))
                await listener.kill()
                await trader.until(n + dead_for)  # dead a while
                quiet.set()
                sim.faults.clear()  # a clean handshake for the new process (see _chaos)
                await listener.start()
                quiet.clear()

            unnoticed: list[str] = []

            async def outage(server: PrivatePostgres | PrivateRedis, *seen: str) -> None:
                await server.stop()
                deadline = asyncio.get_running_loop().time() + 30
                while not any(_logged(listener, text) for text in seen):  # trade until noticed
                    if asyncio.get_running_loop().time() > deadline:  # reported at the end
                        health = (root / "health.json").read_text()
                        tail = listener.log.read_text()[-2000:]
                        unnoticed.append(f"none of {seen} logged in the outage's first 30 s "
                                         f"while fills executed; health then: {health}\n"
                                         f"log then: {tail}")
                        break
                    await trader.until(trader.placed + 20)
                await trader.until(trader.placed + 300)
                await server.start()

            async def redis_outage() -> None:
                # Writes paused, then the stream read to its end: whatever the listener sends
                # from here on waits, and dies with this Redis unapplied (so it is sent again).
                await state.client.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
                await announced.harvest()
                await outage(redis, "bus publish failed", "state store write failed",
                             "state store still unavailable")
                announced.new_stream()

            code: int | None = None
            try:
                await kill_at(plan.randint(150, 1200))
                await trader.until(trader.placed + plan.randint(100, 400))
                await outage(pg, "spooling fills")  # PostgreSQL restarts: spool
                await kill_at(trader.placed + plan.randint(100, 700))
                await trader.until(trader.placed + plan.randint(100, 400))
                await redis_outage()  # Redis restarts: ledger goes on, the stream starts over
                await trader.until(ORDERS)
                trading.cancel()
                stop.set()
                armed = await chaos
                sim.faults.clear()
                print(f"kills at (order, pause s): {kills}; faults armed: {dict(armed)}; "
                      f"REST fault hits: {sim.faults.rest_hits}")
                assert sim.faults.rest_hits.get(FILLS_PATH, 0) >= 1, (
                    f"seed {seed}: no fault hit the gap-fill ({sim.faults.rest_hits})")
                venue = {a.name: _venue_executions(sim, a.name) for a in accounts}
                expected = {e.fill.exec_id: _expected_row(e, bot_of[name])
                            for name, found in venue.items() for e in found}
                assert len(expected) == sum(len(v) for v in venue.values()) >= ORDERS
                conn = await asyncpg.connect(pg.direct_dsn)
                try:
                    columns = ", ".join((*COLUMNS, "account"))

                    async def recorded() -> list[asyncpg.Record]:
                        return list(await conn.fetch(
                            f"SELECT {columns} FROM trading.fills UNION ALL "
                            f"SELECT {columns} FROM trading.funding"))

                    async def complete() -> bool:
                        return {r["exec_id"] for r in await recorded()} == set(expected)

                    try:
                        await eventually(complete, within_s=90)
                    except AssertionError:
                        missing = set(expected) - {r["exec_id"] for r in await recorded()}
                        marks = (root / "spool" / "watermarks.json").read_text()
                        health = f"{marks}\n" + (root / "health.json").read_text()
                        tail = listener.log.read_text()[-3000:]
                        raise AssertionError(
                            f"seed {seed}: {len(missing)} executions never recorded, e.g. "
                            f"{sorted(missing)[:3]}\n{health}\n{tail}") from None
                    rows = await recorded()
                    # once each: as many rows as the venue has executions, none in both tables
                    assert len(rows) == len(expected), f"seed {seed}: {len(rows)} rows"
                    wrong = [(dict(r), expected[r["exec_id"]]) for r in rows
                             if {c: r[c] for c in COLUMNS} != expected[r["exec_id"]]]
                    assert not wrong, f"seed {seed}: {len(wrong)} fills differ, e.g. {wrong[:2]}"
                    labels = {name: {r["account"] for r in rows
                                     if r["exec_id"] in {e.fill.exec_id for e in found}}
                              for name, found in venue.items()}
                    assert all(len(v) == 1 for v in labels.values()), labels
                    assert len(set().union(*labels.values())) == len(accounts), labels
                finally:
                    await conn.close()

                async def all_announced() -> bool:
                    await _redis_call(announced.harvest)
                    return set(announced.counts) >= set(expected)

                # Checked, then reported with the positions' check: one failure hides no other.
                problems: list[str] = list(unnoticed)
                try:
                    await eventually(all_announced, within_s=30)
                except AssertionError:
                    unheard = set(expected) - set(announced.counts)
                    problems.append(f"never announced: {len(unheard)}, e.g. {sorted(unheard)[:3]}")
                if max(announced.counts.values(), default=0) > 1:
                    problems.append(announced.twice())
                if set(announced.counts) - set(expected):
                    problems.append(f"announced but no execution: "
                                    f"{sorted(set(announced.counts) - set(expected))[:3]}")

                async def position_diffs() -> list[str]:
                    conn = await asyncpg.connect(pg.direct_dsn)
                    try:
                        pg_positions = {
                            (r["bot_id"], r["symbol"]): (
                                r["size"], Side(r["side"]) if r["side"] else None,
                                r["avg_entry_price"])
                            for r in await conn.fetch("SELECT bot_id, symbol, size, side, "
                                                      "avg_entry_price FROM trading.positions")
                        }
                    finally:
                        await conn.close()
                    diffs = []
                    for account in accounts:
                        bot = bot_of[account.name]
                        for symbol in QTY:
                            venue_pos = sim.exchange.engine.position(account.name, symbol)
                            live = await _redis_call(
                                lambda b=bot, s=symbol: state.positions.get_position(b, s))
                            in_redis = None if live is None else (
                                live.size, live.side, live.avg_price)
                            diffs += _position_diffs(venue_pos, in_redis,
                                                     f"redis {bot} {symbol}")
                            diffs += _position_diffs(venue_pos, pg_positions.get((bot, symbol)),
                                                     f"trading.positions {bot} {symbol}")
                    return diffs

                async def positions_match() -> bool:
                    return not await position_diffs()

                try:
                    await eventually(positions_match, within_s=20)
                except AssertionError:
                    problems.append(f"positions differ from the venue's: {await position_diffs()}")
                assert not problems, f"seed {seed}: " + "\n".join(problems)
                assert listener.starts == 3
                log = (root / "listener.log").read_text()
                assert "spooling fills" in log and "spool replayed" in log  # the database outage
                assert "state store is back" in log or "bus publish failed" in log
                print(f"full soak: {len(expected)} executions recorded and announced once; "
                      f"{listener.starts} listener starts")
            finally:
                stop.set()
                chaos.cancel()
                trading.cancel()
                code = await listener.stop()
                await state.aclose()
            assert code == 0
