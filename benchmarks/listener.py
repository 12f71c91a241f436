"""The listener's figures over real sockets: sustained fills/s, and receive-to-commit latency.

The listener is wired as ``alphadesk listener`` wires it (ledger through PgBouncer, orders and
equity records, Redis bus/positions/market, gap-fill watermarks) and reads the private WebSockets
of a local Bybit simulator. The simulator runs in a child process (the venue is another machine
in production, so its CPU must not be billed to the listener); executions are injected straight
into its exchange, as tests/listener/test_soak_full.py does, and reach the listener only as
``execution``/``order``/``position``/``wallet`` frames on each account's private socket.

1. ``sustained``: a flood of market orders (one execution each) over several accounts. The
   simulator matches them all with its pushes held, then releases the backlog at once (a
   connection that lags gets up to 100 rows of one topic per message, as Bybit batches rows);
   the figure is the time from the release to the last fill committed, announced on the bus and
   its position written to Redis. Afterwards every execution must be in ``trading.fills``
   exactly once.
2. ``p50``/``p99``: executions paced at 1,000 fills/s; per fill, from the moment the listener
   decoded the frame off its socket to the moment the ledger transaction holding it committed
   (``FillWriter.commit`` returned; the position projection, the bus and Redis follow, and
   overlap the next batch's commit). Measured by wrapping, in this script, the socket's frame
   decoder and the writer.

Creates and drops its own database (ALPHADESK_TEST_PG_DSN, ALPHADESK_TEST_PGBOUNCER_DSN), uses its
own Redis key namespace (ALPHADESK_TEST_REDIS_URL) and deletes it afterwards.

    .venv/bin/python benchmarks/listener.py [--flood N] [--accounts K] [--rate R] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "listener"))

from sim_support import BTC_5M, FAST_WS, sim_account  # noqa: E402

from alphadesk.adapters.bybit import AccountConfig, Environment, Secret  # noqa: E402
from alphadesk.adapters.bybit import ws as ws_module  # noqa: E402
from alphadesk.adapters.bybit.account_feed import AccountSpec, account_bots  # noqa: E402
from alphadesk.adapters.redis.state import RedisState  # noqa: E402
from alphadesk.adapters.spool import DiskSpool  # noqa: E402
from alphadesk.adapters.storage import migrate  # noqa: E402
from alphadesk.adapters.storage.order_records import open_records  # noqa: E402
from alphadesk.adapters.storage.stores import open_store  # noqa: E402
from alphadesk.adapters.storage.watermarks import FileWatermarks  # noqa: E402
from alphadesk.app import heap  # noqa: E402
from alphadesk.domain import order_link  # noqa: E402
from alphadesk.domain.checks import from_epoch_ms  # noqa: E402
from alphadesk.domain.enums import OrderType, Side  # noqa: E402
from alphadesk.domain.fills import Fill  # noqa: E402
from alphadesk.domain.requests import OrderRequest  # noqa: E402
from alphadesk.engine.ingest import Ingest  # noqa: E402
from alphadesk.engine.ledger import FillWriter  # noqa: E402
from alphadesk.listener.service import Listener  # noqa: E402
from alphadesk.simulator import run_simulator  # noqa: E402
from harness import data  # noqa: E402

DIRECT = os.environ.get("ALPHADESK_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BOUNCER = os.environ.get(
    "ALPHADESK_TEST_PGBOUNCER_DSN", "postgresql://postgres@127.0.0.1:6432/postgres"
)
REDIS = os.environ.get("ALPHADESK_TEST_REDIS_URL", "redis://127.0.0.1:6379")


# pings every second: while the flood is matched with pushes held, pongs are all that arrives
WS = replace(FAST_WS, ping_interval_s=1.0)


def _with_db(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def _bot(i: int) -> str:
    return f"bench_{i + 1:03d}"


# --- the simulator, in its own process ---------------------------------------------------------


def _sim_process(conn: Connection, n_accounts: int) -> None:
    asyncio.run(_sim_serve(conn, n_accounts))


def _order(bot: str, side: Side) -> OrderRequest:
    return OrderRequest(bot_id=bot, symbol="BTCUSDT", side=side, qty=Decimal("0.001"),
                        order_type=OrderType.MARKET,
                        order_link_id=order_link.encode(bot, order_link.Purpose.ENTRY))


async def _sim_serve(conn: Connection, n_accounts: int) -> None:
    accounts = [sim_account(i) for i in range(n_accounts)]
    async with run_simulator([data.market_csv(BTC_5M)], accounts, history_bars=50) as sim:
        exchange = sim.exchange
        exchange.coalesce_rows = 100  # a lagging connection gets several rows per message
        conn.send(("ready", sim.base_url, sim.now_ms))
        placed = 0
        epoch, start_ms = time.monotonic(), exchange.now_ms

        def place() -> int:
            nonlocal placed
            i = placed % n_accounts
            side = Side.BUY if (placed // n_accounts) % 2 == 0 else Side.SELL
            # executions carry the time they happened (the replay clock stands still here), so
            # fills of one millisecond share it, as on Bybit
            at = start_ms + int((time.monotonic() - epoch) * 1000)
            outcome = exchange.engine.place(accounts[i].name, _order(_bot(i), side), at)
            exchange.publish_events(outcome.events)
            placed += 1
            return sum(1 for e in outcome.events if isinstance(e, Fill))

        async def pushed_out() -> None:  # every queued frame handed to its socket
            while True:
                if not any(getattr(s, "queue", None) is not None and s.queue.qsize()
                           for s in list(exchange.subscribers)):
                    return
                await asyncio.sleep(0.0005)

        while True:
            command = await asyncio.to_thread(conn.recv)
            if command[0] == "flood":
                # the backlog is built with pushes held, then released at once: the figure is
                # the listener's, not the rate at which this process can match orders
                exchange.hold_pushes()
                fills = 0
                for k in range(command[1]):
                    fills += place()
                    if k % 200 == 199:
                        await asyncio.sleep(0)  # answer the listener's pings meanwhile
                started = time.monotonic()
                exchange.release_pushes()
                await pushed_out()
                conn.send((started, time.monotonic(), fills))
            elif command[0] == "pace":
                rate, seconds = command[1], command[2]
                total = int(rate * seconds)
                fills = 0
                started = time.monotonic()
                for k in range(total):
                    due = started + k / rate
                    wait = due - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    fills += place()
                await pushed_out()
                conn.send((started, time.monotonic(), fills))
            elif command[0] == "ids":
                ids: set[str] = set()
                for account in accounts:
                    cursor = ""
                    while True:
                        page = exchange.engine.executions(account.name, limit=100,
                                                          cursor=cursor)
                        ids.update(e.fill.exec_id for e in page.items)
                        cursor = page.next_cursor
                        if not cursor:
                            break
                conn.send(ids)
            else:
                conn.send("bye")
                return


async def _ask(conn: Connection, *command: Any) -> Any:
    conn.send(command)
    return await asyncio.to_thread(conn.recv)


# --- instrumentation (wrappers installed by this script; nothing in src changes) -------------


class Probe:
    """Receive time per exec_id (set when the socket's frame is decoded), commit time per exec_id
    (when ``FillWriter.commit`` returns), and when the last ingest call finished."""

    def __init__(self) -> None:
        self.rx_at = 0.0
        self.received: dict[str, float] = {}
        self.write_started: dict[str, float] = {}
        self.committed: dict[str, float] = {}
        self.batch_sizes: list[int] = []
        self.write_s = 0.0
        self.ingest_s = 0.0
        self.busy = 0  # ingest calls in progress (the listener overlaps two)
        self.last_done = 0.0
        self.parts: dict[str, float] = {}

    def reset(self) -> None:
        self.received.clear()
        self.write_started.clear()
        self.committed.clear()
        self.batch_sizes.clear()
        self.write_s = self.ingest_s = 0.0
        self.parts = {}

    def install(self, listener: Listener, ingest: Ingest) -> None:
        real_decode = ws_module.decode

        def decode(data: bytes, kind: Any, where: str) -> Any:
            self.rx_at = time.monotonic()  # ws.receive() has just returned this frame
            return real_decode(data, kind, where)

        ws_module.decode = decode  # type: ignore[assignment]

        inbox = listener.inbox
        real_put = inbox.put

        async def put(feed: Any, events: list[Any]) -> None:
            # Called synchronously after the decode above, with no await in between, so
            # rx_at is still this frame's receive time.
            at = self.rx_at
            for event in events:
                if isinstance(event, Fill):
                    self.received.setdefault(event.exec_id, at)
            await real_put(feed, events)

        inbox.put = put  # type: ignore[method-assign]

        writer = ingest.writer
        real_commit = writer.commit

        async def commit(fills: Sequence[Fill]) -> Any:
            started = time.monotonic()
            result = await real_commit(fills)
            done = time.monotonic()
            self.write_s += done - started
            self.batch_sizes.append(len(fills))
            for fill in fills:
                self.write_started.setdefault(fill.exec_id, started)
                self.committed.setdefault(fill.exec_id, done)
            return result

        writer.commit = commit  # type: ignore[method-assign]

        real_ingest = ingest.ingest

        async def timed_ingest(reports: Any, **kw: Any) -> Any:
            self.busy += 1
            started = time.monotonic()
            try:
                return await real_ingest(reports, **kw)
            finally:
                self.last_done = time.monotonic()
                self.ingest_s += self.last_done - started
                self.busy -= 1

        ingest.ingest = timed_ingest  # type: ignore[method-assign]

        for part in ("_record", "_record_equity", "_check"):
            self._time_part(ingest, part, part)
        self._time_part(ingest.announcer, "flush", "_flush_state")

    def _time_part(self, owner: object, part: str, label: str) -> None:
        real = getattr(owner, part)

        async def timed(*a: Any, **kw: Any) -> Any:
            started = time.monotonic()
            try:
                return await real(*a, **kw)
            finally:
                self.parts[label] = self.parts.get(label, 0.0) + time.monotonic() - started

        setattr(owner, part, timed)


async def _settled(ingest: Ingest, listener: Listener, probe: Probe, published: int,
                   within_s: float = 90.0) -> float:
    """When the last fill was committed, announced and its position written (monotonic s)."""
    deadline = time.monotonic() + within_s
    while (ingest.stats.published < published or probe.busy or listener.inbox.depth
           or ingest.pending_state):
        if time.monotonic() > deadline:
            raise AssertionError(f"only {ingest.stats.published} of {published} fills announced "
                                 f"within {within_s} s (stats {ingest.stats})")
        await asyncio.sleep(0.001)
    return probe.last_done


class _LoopLag:
    """How late a 1 ms timer fires on the listener's event loop: every database or Redis reply
    waits about as long behind the frames being read and decoded."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append((time.perf_counter() - started) * 1000 - 1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def summary(self) -> str:
        return (f"p50 {_pct(self.lags, 0.5):.2f} ms, p99 {_pct(self.lags, 0.99):.2f} ms"
                if self.lags else "n/a")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


# --- the benchmark -----------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sim_process, args=(child, args.accounts), daemon=True)
    proc.start()
    name = f"alphadesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(DIRECT)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    namespace = f"bench:{secrets.token_hex(4)}:"
    state = RedisState(Redis.from_url(REDIS), namespace=namespace)
    try:
        _, base_url, now_ms = await asyncio.to_thread(parent.recv)
        dsn = _with_db(BOUNCER, name)
        await asyncio.to_thread(migrate.upgrade, dsn)
        await _measure(args, parent, base_url, now_ms, dsn, _with_db(DIRECT, name), state)
    finally:
        if proc.is_alive():
            parent.send(("stop",))
            proc.join(5)
        keys = [k async for k in state.client.scan_iter(match=f"{namespace}*")]
        if keys:
            await state.client.delete(*keys)
        await state.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _measure(args: argparse.Namespace, sim: Connection, base_url: str, now_ms: int,
                   dsn: str, direct: str, state: RedisState) -> None:
    specs = [
        AccountSpec(AccountConfig(a.name, a.key, Secret(a.secret), Environment.DEMO,
                                  base_url=base_url), (_bot(i),))
        for i, a in enumerate(sim_account(i) for i in range(args.accounts))
    ]
    store = await open_store(dsn)
    records = await open_records(dsn, {s.account: s.default_bot for s in specs})
    probe = Probe()

    def venue_clock() -> datetime:
        return from_epoch_ms("sim.now", now_ms)

    with tempfile.TemporaryDirectory() as tmp:
        spool = DiskSpool(Path(tmp) / "spool")
        ingest = Ingest(FillWriter(store), spool, bus=state.bus, positions=state.positions,
                        markets=state.market, orders=records, equity=records,
                        account_bots=account_bots(specs), mismatch_grace_s=10.0,
                        db_retry_s=2.0)
        listener = Listener(ingest, specs, bus=state.bus, markets=state.market,
                            venue_clock=venue_clock, ws_settings=WS,
                            watermarks=FileWatermarks(Path(tmp) / "watermarks.json"))
        probe.install(listener, ingest)
        await listener.start()
        heap.settle()  # as `alphadesk listener` does once started
        try:
            await _bench(args, sim, listener, ingest, probe, direct)
        finally:
            await listener.close()
            spool.close()
            await records.close()
            await store.close()


async def _bench(args: argparse.Namespace, sim: Connection, listener: Listener, ingest: Ingest,
                 probe: Probe, direct: str) -> None:
    # 1. sustained
    await ingest.recover()
    cpu = time.process_time()
    first_push, pushed_all, flood_fills = await _ask(sim, "flood", args.flood)
    done = await _settled(ingest, listener, probe, flood_fills)
    cpu = time.process_time() - cpu
    took = done - first_push
    sustained = flood_fills / took
    flood_batches = list(probe.batch_sizes)
    flood_write_s, flood_ingest_s = probe.write_s, probe.ingest_s
    flood_parts = dict(probe.parts)

    # 2. latency at a paced rate
    probe.reset()
    await asyncio.sleep(0.2)
    lag = _LoopLag()
    cpu = time.process_time()
    lag.start()
    _, _, paced_fills = await _ask(sim, "pace", args.rate, args.seconds)
    await _settled(ingest, listener, probe, flood_fills + paced_fills)
    await lag.stop()
    paced_cpu = time.process_time() - cpu
    latencies = [(probe.committed[x] - t) * 1000 for x, t in probe.received.items()
                 if x in probe.committed]
    queued = [(probe.write_started[x] - t) * 1000 for x, t in probe.received.items()
              if x in probe.write_started]
    assert len(latencies) == paced_fills, (len(latencies), paced_fills)

    # 3. every execution recorded exactly once
    expected: set[str] = await _ask(sim, "ids")
    conn = await asyncpg.connect(direct)
    try:
        rows = await conn.fetch("SELECT exec_id FROM trading.fills")
    finally:
        await conn.close()
    ids = [r["exec_id"] for r in rows]
    assert len(ids) == len(set(ids)), "an execution was recorded twice"
    assert set(ids) == expected, f"{len(expected - set(ids))} executions missing"
    assert len(ids) == flood_fills + paced_fills

    p50, p99 = _pct(latencies, 0.50), _pct(latencies, 0.99)
    print(f"# {args.accounts} accounts, simulator in its own process; "
          f"{len(ids)} executions in trading.fills, each exactly once")
    print(f"# flood: {flood_fills} fills, simulator pushed them in "
          f"{pushed_all - first_push:.2f} s ({flood_fills / (pushed_all - first_push):.0f}/s), "
          f"listener done {took:.2f} s after the first push; "
          f"{len(flood_batches)} ledger batches, mean "
          f"{flood_fills / max(1, len(flood_batches)):.0f} fills; FillWriter.commit "
          f"{flood_write_s:.2f} s, Ingest.ingest {flood_ingest_s:.2f} s; listener process CPU "
          f"{cpu:.2f} s (includes the wait for the simulator to match the flood)")
    print(f"# paced: {paced_fills} fills at {args.rate}/s; queued before the write p50 "
          f"{_pct(queued, 0.5):.1f} ms p99 {_pct(queued, 0.99):.1f} ms; max "
          f"{max(latencies):.1f} ms; mean batch "
          f"{paced_fills / max(1, len(probe.batch_sizes)):.1f}; listener CPU {paced_cpu:.2f} s; "
          f"event-loop lag {lag.summary()}")
    print(f"sustained: {sustained:.0f} fills/s")
    print(f"p50: {p50:.1f} ms")
    print(f"p99: {p99:.1f} ms")
    if sustained < 10_000:
        sim_s = pushed_all - first_push
        print(f"# note: sustained below 10,000 fills/s. Of {took:.2f} s, Ingest.ingest took "
              f"{flood_ingest_s:.2f} s: FillWriter.commit (the fills' insert) "
              f"{flood_write_s:.2f} s, order records {flood_parts.get('_record', 0):.2f} s and "
              f"equity records {flood_parts.get('_record_equity', 0):.2f} s (both while the "
              f"fills commit, one statement per batch each), bus + positions "
              f"{flood_parts.get('_flush_state', 0):.2f} s, position checks "
              f"{flood_parts.get('_check', 0):.2f} s; the simulator pushed in {sim_s:.2f} s. "
              f"The rest of the listener's CPU ({cpu:.2f} s in all) is reading and decoding "
              f"four frames per fill")
    if p99 >= 25:
        paced_parts = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(probe.parts.items()))
        print(f"# note: p99 at or above 25 ms: p99 of the wait before the write "
              f"{_pct(queued, 0.99):.1f} ms. Frames queue in the Inbox while the batch before "
              f"them commits and the one before that is projected and announced; the "
              f"listener's one event loop also reads and decodes every frame, so each database "
              f"and Redis round trip waits behind that work (event-loop lag {lag.summary()}; "
              f"paced, inside Ingest: FillWriter.commit {probe.write_s:.2f} s, {paced_parts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=20_000, help="executions in the flood")
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--rate", type=int, default=1_000, help="paced fills per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
