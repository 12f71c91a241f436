"""``alphadesk data download|list`` against the local simulator, over real sockets.

The simulator replays the bundled BTCUSDT and ETHUSDT 5-minute candles with their recorded
funding beside them and serves ``/v5/market/kline``, ``/v5/market/funding/history`` and
``/v5/market/instruments-info`` as Bybit does; what lands in the data folder must be exactly
those bars and rates, fetched only once.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import pytest_asyncio

from alphadesk.adapters.bybit.config import AccountConfig, Environment
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.market_store.download import Downloader, missing_ranges
from alphadesk.adapters.market_store.files import read_candles, write_candles
from alphadesk.app.cli import main
from alphadesk.simulator import Simulator, run_simulator

FILES = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH")]
START = 1_761_955_200_000  # 2025-11-01 00:00 UTC
END = 1_762_560_000_000  # 2025-11-08 00:00 UTC: 2,016 five-minute bars
DATA_END = 1_763_856_000_000  # 2025-11-23 00:00, where the bundled 5-minute files end
LAUNCH = "import sys; from alphadesk.app.cli import main; sys.exit(main(sys.argv[1:]))"


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))[1:]


@pytest_asyncio.fixture
async def sim(market_csv: Callable[[str], Path]) -> AsyncIterator[Simulator]:
    # replay clock at the end of the files: every bundled bar is closed history
    async with run_simulator([market_csv(f) for f in FILES], [], start_ms=DATA_END) as running:
        yield running


async def cli(sim: Simulator, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYBIT_")}
    env["BYBIT_BASE_URL"] = sim.base_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH, *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_download_stores_the_exchange_bars_funding_and_rules_once(
    sim: Simulator, tmp_path: Path, market_csv: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "market"
    args = ("data", "download", "--symbols", "BTCUSDT", "ethusdt", "--interval", "5m", "1h",
            "--from", "2025-11-01", "--to", "2025-11-08", "--data-dir", str(folder))
    code, out, err = await cli(sim, tmp_path, *args)
    assert code == 0, err
    for symbol, name in (("BTCUSDT", FILES[0]), ("ETHUSDT", FILES[1])):
        source = [r for r in csv_rows(market_csv(name)) if START <= int(r[0]) < END]
        table = pq.read_table(folder / f"{symbol}_5m_bybit.parquet").to_pydict()
        assert table["ts_ms"] == [int(r[0]) for r in source]
        for i, column in enumerate(("open", "high", "low", "close", "volume"), start=1):
            assert [Decimal(repr(x)) for x in table[column]] == [Decimal(r[i]) for r in source]
        hourly = pq.read_table(folder / f"{symbol}_1h_bybit.parquet").to_pydict()
        assert len(hourly["ts_ms"]) == 7 * 24
        first_hour = source[:12]
        assert hourly["high"][0] == max(float(r[2]) for r in first_hour)
        assert hourly["close"][0] == float(first_hour[-1][4])
        recorded = {
            int(r[0]): Decimal(r[1])
            for r in csv_rows(market_csv(f"{symbol}_8h_funding_bybit-perp-20250924-20260721"))
            if START <= int(r[0]) < END
        }
        funding = pq.read_table(folder / f"{symbol}_funding_bybit.parquet").to_pydict()
        got = dict(zip(funding["ts_ms"], (Decimal(repr(x)) for x in funding["funding_rate"]),
                       strict=True))
        assert got == recorded and len(got) == 21
    rules = json.loads((folder / "instruments_linear.json").read_text())["result"]["list"]
    by_symbol = {i["symbol"]: i for i in rules}
    assert sorted(by_symbol) == ["BTCUSDT", "ETHUSDT"]
    assert by_symbol["BTCUSDT"]["priceFilter"]["tickSize"] == "0.1"  # Bybit's, not 0.5
    assert by_symbol["ETHUSDT"]["priceFilter"]["tickSize"] == "0.01"
    assert "BTCUSDT 5m" in out and "+2016" in out

    # a second run finds everything stored: no bar is fetched again
    klines_before = sim.exchange.requests["/v5/market/kline"]
    rest = BybitRest(AccountConfig.public("test", environment=Environment.LIVE,
                                          base_url=sim.base_url))
    try:
        again = await Downloader(rest, folder).candles("ETHUSDT", 5, START, END)
    finally:
        await rest.close()
    assert (again.added, again.stored) == (0, 2016)
    assert sim.exchange.requests["/v5/market/kline"] == klines_before

    capsys.readouterr()
    assert main(["data", "list", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if "_bybit.parquet" in line}
    assert "candles 5m" in lines["BTCUSDT_5m_bybit.parquet"]
    assert "2,016" in lines["BTCUSDT_5m_bybit.parquet"]
    assert "2025-11-01 00:00" in lines["ETHUSDT_5m_bybit.parquet"]
    assert "2025-11-07 23:55" in lines["ETHUSDT_5m_bybit.parquet"]
    assert lines["ETHUSDT_5m_bybit.parquet"].rstrip().endswith("none")
    assert "funding" in lines["BTCUSDT_funding_bybit.parquet"]


async def test_a_hole_and_a_longer_period_fetch_only_what_is_missing(
    sim: Simulator, tmp_path: Path
) -> None:
    rest = BybitRest(AccountConfig.public("test", environment=Environment.LIVE,
                                          base_url=sim.base_url))
    seen: list[tuple[str, int, int]] = []
    loader = Downloader(rest, tmp_path, lambda task, done, total: seen.append((task, done, total)))
    try:
        await rest.sync_clock()
        first = await loader.candles("BTCUSDT", 5, START, END)
        assert (first.added, first.stored) == (2016, 2016)
        path = first.path
        raw = read_candles(path)
        keep = np.ones(len(raw), dtype=bool)
        keep[500:560] = False  # a 60-bar hole, as a stopped download or a bad import leaves
        cols = np.column_stack([raw.open, raw.high, raw.low, raw.close, raw.volume])
        write_candles(path, raw.ts_ms[keep], cols[keep])
        calls = sim.exchange.requests["/v5/market/kline"]
        # one more day on top, and the hole: two stretches, one page each
        again = await loader.candles("BTCUSDT", 5, START, END + 86_400_000)
        assert sim.exchange.requests["/v5/market/kline"] - calls == 2
        assert (again.added, again.stored) == (60 + 288, 2016 + 288)
        restored = read_candles(path)
        assert np.array_equal(restored.ts_ms[:2016], raw.ts_ms)
        assert np.array_equal(restored.close[:2016], raw.close)
        assert seen[-1] == ("BTCUSDT 5m", 348, 348)  # the progress counts what was missing
    finally:
        await rest.close()


async def test_bars_the_venue_does_not_have_are_said_not_passed_over(
    sim: Simulator, tmp_path: Path
) -> None:
    """Asking past the replayed files' end (the venue has no bars there): the bars it had are
    stored and the note says how many of the missing ones came, over which span."""
    rest = BybitRest(AccountConfig.public("test", environment=Environment.LIVE,
                                          base_url=sim.base_url))
    try:
        await rest.sync_clock()
        loader = Downloader(rest, tmp_path)
        whole = await loader.candles("BTCUSDT", 5, DATA_END - 86_400_000, DATA_END)
        assert (whole.added, whole.note) == (288, "")
        past = await loader.candles("BTCUSDT", 5, DATA_END - 86_400_000,
                                    DATA_END + 2 * 86_400_000)
    finally:
        await rest.close()
    assert (past.added, past.stored) == (0, 288)
    assert past.note == ("the venue had 0 of the 576 bars missing in 2025-11-23 00:00 UTC .. "
                         "2025-11-25 00:00 UTC (`data list` shows the holes left)")


async def test_a_stopped_download_resumes_from_what_it_stored(
    sim: Simulator, tmp_path: Path
) -> None:
    rest = BybitRest(AccountConfig.public("test", environment=Environment.LIVE,
                                          base_url=sim.base_url))
    pages_seen = asyncio.Event()

    def progress(task: str, done: int, total: int) -> None:
        if done >= 5000:  # five pages in: stop it, as Ctrl-C would
            pages_seen.set()

    try:
        await rest.sync_clock()
        loader = Downloader(rest, tmp_path, progress, flush_pages=2)
        job = asyncio.create_task(loader.candles("BTCUSDT", 5, START - 30 * 86_400_000, END))
        await asyncio.wait_for(pages_seen.wait(), 30)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        kept = read_candles(tmp_path / "BTCUSDT_5m_bybit.parquet")
        assert len(kept) == 4000  # the pages flushed before the stop, whole
        calls = sim.exchange.requests["/v5/market/kline"]
        done = await Downloader(rest, tmp_path).candles(
            "BTCUSDT", 5, START - 30 * 86_400_000, END)
        assert done.added == 2016 + 30 * 288 - 4000 and done.stored == 2016 + 30 * 288
        assert sim.exchange.requests["/v5/market/kline"] - calls == 7  # 6,656 bars left
    finally:
        await rest.close()


async def test_rate_limit_answers_are_waited_out(sim: Simulator, tmp_path: Path) -> None:
    rest = BybitRest(AccountConfig.public("test", environment=Environment.LIVE,
                                          base_url=sim.base_url))
    try:
        await rest.sync_clock()
        sim.exchange.faults.rate_limit(count=1, path="/v5/market/kline")
        got = await Downloader(rest, tmp_path).candles("ETHUSDT", 60, START, END)
        assert got.stored == 7 * 24
        assert rest.stats.rate_limited == 1 and rest.stats.retries == 1
    finally:
        await rest.close()


def test_missing_ranges_are_the_grid_stretches_without_a_bar() -> None:
    step = 300_000
    stored = np.array([3, 4, 5, 9, 10], dtype=np.int64) * step
    assert missing_ranges(stored, 0, 12 * step, step) == [
        (0, 3 * step), (6 * step, 9 * step), (11 * step, 12 * step)]
    assert missing_ranges(stored, 3 * step, 11 * step, step) == [(6 * step, 9 * step)]
    assert missing_ranges(np.empty(0, dtype=np.int64), 1, 2 * step, step) == [(step, 2 * step)]
