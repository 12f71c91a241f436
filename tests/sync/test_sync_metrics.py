"""``alphadesk sync run --every … --metrics-port``: the sync service's page, scraped over HTTP
while it runs, counts the rows it wrote (as the ledger holds them), its REST calls per bot and
its finished passes."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sync_support import ACCOUNT, SyncSim, finish, ledger_rows, start_cli

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape(port: int) -> Samples | None:
    """The page, or None while the service is still starting."""
    try:
        async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=5),
        ) as response:
            text = await response.text()
    except aiohttp.ClientConnectionError:
        return None
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_the_sync_services_page_counts_what_it_wrote_and_its_rest_calls(
    sim: SyncSim, sqlite_db: Path, tmp_path: Path,
) -> None:
    port = free_port()
    env = sim.env(f"sqlite:///{sqlite_db}")
    proc = await start_cli(env, "sync", "run", "--every", "1h", "--bot", "lxalgo_001",
                           "--metrics-port", str(port), cwd=tmp_path)
    page: Samples | None = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while proc.returncode is None and loop.time() < deadline:
            page = await scrape(port)
            mine = [r for r in ledger_rows(sqlite_db) if r[0] == ACCOUNT["lxalgo_001"]]
            # the first pass has ended (so nothing more is being written) and the page
            # counts every row of it
            if page and page.get(("alphadesk_sync_passes_total", ()), 0) >= 1 and mine \
                    and page[("alphadesk_fills_written_total", ())] == len(mine):
                break
            await asyncio.sleep(0.1)
        assert page is not None, "the page never answered"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    done = await finish(proc)
    assert done.code == 0, done.err[-3000:]
    rows = [r for r in ledger_rows(sqlite_db) if r[0] == ACCOUNT["lxalgo_001"]]
    assert rows and page[("alphadesk_fills_written_total", ())] == len(rows)
    assert page[("alphadesk_service_info", (("service", "sync"),))] == 1
    calls = {dict(k[1])["endpoint"]: v for k, v in page.items()
             if k[0] == "alphadesk_rest_calls_total" and dict(k[1])["account"] == "lxalgo_001"}
    assert calls and sum(calls.values()) > 0, calls
    assert ("alphadesk_rest_rate_limit_waits_total", (("account", "lxalgo_001"),)) in page
    assert page[("alphadesk_spool_depth", ())] == 0
    assert page[("alphadesk_sync_passes_total", ())] == 1  # --every 1h: one pass in the test
    assert page[("alphadesk_sync_last_pass_timestamp_seconds", ())] > 1_700_000_000
