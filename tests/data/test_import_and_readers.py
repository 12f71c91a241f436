"""``alphadesk data import`` and the readers of the data folder: the backtest, the simulator and
the demo take its Parquet files as they take the bundled CSVs."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import pyarrow.parquet as pq
import pytest

from alphadesk.app.cli import main
from alphadesk.backtest.data import load, pick_files
from alphadesk.backtest.result import summarize, to_dict
from alphadesk.backtest.runner import run
from alphadesk.simulator import run_simulator
from alphadesk.strategies import build

SYMBOLS = ("BTC", "ETH", "SOL")
FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in SYMBOLS]
FUNDING = [f"{s}USDT_8h_funding_bybit-perp-20250924-20260721" for s in SYMBOLS]
END = 1_759_881_600_000  # 2025-10-08: two weeks


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def folder(tmp_path: Path, market_csv: Callable[[str], Path]) -> Path:
    target = tmp_path / "market"
    files = [str(market_csv(f)) for f in FIVE + FUNDING]
    assert main(["data", "import", *files, "--data-dir", str(target)]) == 0
    return target


def test_import_stores_the_csv_values_as_parquet(
    folder: Path, market_csv: Callable[[str], Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_rows = rows(market_csv(FIVE[0]))
    source = source_rows[1:]
    table = pq.read_table(folder / "BTCUSDT_5m_bybit.parquet").to_pydict()
    assert table["ts_ms"] == [int(r[0]) for r in source]
    assert [Decimal(repr(x)) for x in table["close"]] == [Decimal(r[4]) for r in source]
    funding = pq.read_table(folder / "ETHUSDT_funding_bybit.parquet").to_pydict()
    assert len(funding["ts_ms"]) == 902
    # importing again changes nothing; a file whose name lies about its bars is refused
    capsys.readouterr()
    assert main(["data", "import", str(market_csv(FIVE[0])), "--data-dir", str(folder)]) == 0
    assert "(17280 stored)" in capsys.readouterr().out
    liar = tmp_path / "BTCUSDT_1h_liar.csv"
    liar.write_text("\n".join(",".join(r) for r in rows(market_csv(FIVE[0]))[:50]) + "\n")
    assert main(["data", "import", str(liar), "--data-dir", str(folder)]) == 2
    assert "the name says 1h bars but the timestamps are 5m apart" in capsys.readouterr().err
    holed = tmp_path / "ADAUSDT_5m_holed.csv"
    holed.write_text("\n".join(",".join(r) for r in [*source_rows[:101], *source_rows[151:]])
                     + "\n")
    assert main(["data", "import", str(holed), "--data-dir", str(folder)]) == 0
    (folder / "XRPUSDT_5m_broken.csv").write_text("time,price\n1,2\n")
    assert main(["data", "list", "--data-dir", str(folder)]) == 0
    listed = capsys.readouterr().out
    assert "SOLUSDT_5m_bybit.parquet" in listed and "17,280" in listed
    (ada,) = [line for line in listed.splitlines() if line.startswith("ADAUSDT_5m_bybit")]
    assert ada.split()[-3:] == ["1", "(50", "bars)"]  # one gap of 50 bars
    assert "unreadable" in listed and "header must be ts_ms,open,high,low,close,volume" in listed


def test_a_backtest_over_the_folder_equals_one_over_the_bundled_csvs(
    folder: Path, market_csv: Callable[[str], Path]
) -> None:
    parquet = pick_files(folder, 5)
    assert [p.name for p in parquet] == [f"{s}USDT_5m_bybit.parquet" for s in SYMBOLS]
    ours = to_dict(summarize(run(build("shortseller"), load(parquet, end_ms=END))))
    bundled = to_dict(summarize(run(build("shortseller"),
                                    load([market_csv(f) for f in FIVE], end_ms=END))))
    assert ours["funding"]["BTCUSDT"].endswith(
        "from BTCUSDT_funding_bybit.parquet (every 8 h, Bybit's instrument interval)")
    assert ours["trades"] and ours["trades"] == bundled["trades"]
    assert ours["metrics"] == bundled["metrics"]  # funding included: the same recorded rates


async def test_the_simulator_replays_parquet_and_its_funding(folder: Path) -> None:
    path = folder / "BTCUSDT_5m_bybit.parquet"
    async with run_simulator([path], [], start_ms=END) as sim, aiohttp.ClientSession() as http:
        async with http.get(f"{sim.base_url}/v5/market/kline", params={
            "category": "linear", "symbol": "BTCUSDT", "interval": "5", "limit": "2"}) as resp:
            klines = (await resp.json())["result"]["list"]
        async with http.get(f"{sim.base_url}/v5/market/funding/history", params={
            "category": "linear", "symbol": "BTCUSDT", "limit": "1"}) as resp:
            funding = (await resp.json())["result"]["list"]
        async with http.get(f"{sim.base_url}/v5/market/instruments-info", params={
            "category": "linear", "symbol": "BTCUSDT"}) as resp:
            rules = (await resp.json())["result"]["list"][0]
    table = pq.read_table(path).to_pydict()
    last = table["ts_ms"].index(END - 300_000)
    assert [int(k[0]) for k in klines] == [END - 300_000, END - 600_000]
    assert Decimal(klines[0][4]) == Decimal(repr(table["close"][last]))
    recorded = pq.read_table(folder / "BTCUSDT_funding_bybit.parquet").to_pydict()
    newest = max(t for t in recorded["ts_ms"] if t <= END)
    assert int(funding[0]["fundingRateTimestamp"]) == newest
    assert Decimal(funding[0]["fundingRate"]) == Decimal(
        repr(recorded["funding_rate"][recorded["ts_ms"].index(newest)]))
    assert rules["priceFilter"]["tickSize"] == "0.1"  # Bybit's rule, from the bundled record
    assert rules["leverageFilter"]["maxLeverage"] == "100"


def test_the_demo_reads_a_data_folder(
    tmp_path: Path, market_csv: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    table = rows(market_csv(FIVE[0]))
    (small / "BTCUSDT_5m_part.csv").write_text(
        "\n".join(",".join(r) for r in table[: 1 + 288 * 10]) + "\n")
    db = tmp_path / "demo.db"
    assert main(["demo", "--quick", "--data-dir", str(small),
                 "--database-url", f"sqlite:///{db}"]) == 0
    out = capsys.readouterr().out
    assert "over 2,880 bars of BTCUSDT" in out  # shortseller and lxalgo: the 5-minute bars
    assert "note: BTCUSDT: resampled 2880 5m bars to 60 4h bars" in out  # momentum's own
    assert "constant funding (no history for some symbols)" in out
