"""Honest bars: the interval is what the timestamps say, finer bars are resampled to the
strategy's timeframe, coarser ones refused, holes and repeats reported (``strict`` refuses), files
a strategy leaves out named, and funding taken from the history beside the candles."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from alphadesk.adapters.sim.feed import BarArrays
from alphadesk.app.cli import main
from alphadesk.backtest.data import DataQualityError, align, for_strategy, load
from alphadesk.backtest.result import summarize, to_dict, to_json
from alphadesk.backtest.runner import run
from alphadesk.backtest.settings import BacktestSettings
from alphadesk.domain.enums import ExecType
from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import build

FIVE = [f"{s}USDT_5m_bybit-perp-20250924-20251122" for s in ("BTC", "ETH", "SOL")]
FOUR_BTC = "BTCUSDT_4h_bybit-perp-20250924-20260721"
FIVE_END = 1_763_856_000_000  # 2025-11-23 00:00 UTC, where the 5-minute files end


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def write(path: Path, table: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(table)
    return path


def test_the_timestamps_decide_the_interval_and_a_lying_name_is_refused(
    tmp_path: Path, market_csv: Callable[[str], Path]
) -> None:
    four = rows(market_csv(FOUR_BTC))
    liar = write(tmp_path / "BTCUSDT_5m_mine.csv", four)
    with pytest.raises(InvalidField, match="the name says 5m bars but the timestamps are 4h"):
        load([liar])
    plain = write(tmp_path / "BTCUSDT_mine.csv", four)  # no interval in the name: inferred
    data = load([plain])
    assert data.interval_min == 240 and len(data.series["BTCUSDT"]) == len(four) - 1
    with pytest.raises(InvalidField, match="coarser than the strategy's 5m timeframe"):
        run(build("shortseller"), data)


def test_momentum_on_five_minute_bars_trades_the_four_hour_bars_they_make(
    market_csv: Callable[[str], Path]
) -> None:
    fine = load([market_csv(f) for f in FIVE])
    resampled = for_strategy(fine, build("momentum"))
    assert resampled.interval_min == 240
    assert resampled.notes[-1] == (
        "SOLUSDT: resampled 17280 5m bars to 360 4h bars (00:00 UTC grid)"
    )
    four = load([market_csv(f.replace("5m", "4h").replace("20251122", "20260721"))
                 for f in FIVE], end_ms=FIVE_END)
    by_resampling = to_dict(summarize(run(build("momentum"), fine)))
    by_bybit_bars = to_dict(summarize(run(build("momentum"), four)))
    assert by_resampling["interval_min"] == 240 and by_resampling["bars"] == 3 * 360
    assert by_resampling["trades"] == by_bybit_bars["trades"]  # Bybit's own 4h bars, exactly
    assert by_resampling["metrics"] == by_bybit_bars["metrics"]


def test_an_incomplete_last_bucket_is_dropped(
    tmp_path: Path, market_csv: Callable[[str], Path]
) -> None:
    five = rows(market_csv(FIVE[0]))
    cut = write(tmp_path / "BTCUSDT_5m_cut.csv", five[: 1 + 288 + 30])  # one day + 2.5 hours
    data = for_strategy(load([cut]), build("momentum"))
    assert len(data.series["BTCUSDT"]) == 6  # the 00:00 bucket of day two holds 30 of 48 bars
    assert data.notes[-1].endswith("left out 30 bar(s) of an incomplete last bucket")


def test_holes_and_repeats_are_reported_with_positions_and_strict_refuses(
    tmp_path: Path, market_csv: Callable[[str], Path]
) -> None:
    five = rows(market_csv(FIVE[0]))
    holed = write(tmp_path / "BTCUSDT_5m_holed.csv", five[:1001] + five[1051:])
    data = load([holed])
    (note,) = data.notes
    assert note == (
        "BTCUSDT_5m_holed.csv: 1 gap(s), 50 missing 5m bar(s), after 2025-09-27T11:15Z (+50)"
    )
    with pytest.raises(DataQualityError, match="has holes"):
        load([holed], strict=True)
    repeated = write(tmp_path / "BTCUSDT_5m_rep.csv", [*five[:11], five[10], five[10], *five[11:]])
    data = load([repeated])
    (note,) = data.notes
    assert note.startswith("BTCUSDT_5m_rep.csv: 2 repeated bar(s) left out (first kept): row 12")
    assert len(data.series["BTCUSDT"]) == len(five) - 1
    with pytest.raises(DataQualityError, match="repeats bars"):
        load([repeated], strict=True)
    # the command line: a warning by default, a refusal with --strict
    assert main(["backtest", "--strategy", "ema_cross", "--data", str(holed),
                 "--to", "2025-10-01"]) == 0
    assert main(["backtest", "--strategy", "ema_cross", "--data", str(holed), "--strict"]) == 2


def test_files_a_strategy_does_not_trade_are_named(market_files: Callable[[str], list[Path]]
                                                   ) -> None:
    data = load(market_files("*_4h_bybit-perp-*.csv"))
    result = to_dict(summarize(run(build("momentum"), data)))
    assert result["symbols"] == ["ADAUSDT", "AVAXUSDT", "BNBUSDT", "BTCUSDT", "ETHUSDT",
                                 "SOLUSDT"]
    assert result["data_notes"] == [
        "AAVEUSDT_4h_bybit-perp-20250924-20260721.csv: not used, AAVEUSDT is not in "
        "momentum's symbols",
        "APEUSDT_4h_bybit-perp-20250924-20260721.csv: not used, APEUSDT is not in "
        "momentum's symbols",
    ]


def test_funding_comes_from_the_history_beside_the_candles(
    tmp_path: Path, market_csv: Callable[[str], Path]
) -> None:
    end = 1_759_881_600_000  # two weeks
    bundled = to_dict(summarize(run(build("shortseller"),
                                    load([market_csv(f) for f in FIVE], end_ms=end))))
    assert bundled["funding"]["BTCUSDT"].startswith("history: 42 settlements in the period from "
                                                    "BTCUSDT_8h_funding_")
    # the same candles alone in a folder: the constant rate, named as the fallback
    alone = [shutil.copy(market_csv(f), tmp_path / f"{f}.csv") for f in FIVE]
    constant = summarize(run(build("shortseller"), load(alone, end_ms=end)))
    assert to_dict(constant)["funding"]["BTCUSDT"] == "constant 0.0001 per 8 h (fallback)"
    assert to_dict(constant)["metrics"]["funding"] != bundled["metrics"]["funding"]
    # a CSV ts_ms,funding_rate of our own beside them: every settlement charges exactly it
    for symbol in ("BTC", "ETH", "SOL"):
        table = [["ts_ms", "funding_rate"]] + [
            [str(t), "0.0005"] for t in range(1_758_672_000_000, end + 1, 8 * 3_600_000)
        ]
        write(tmp_path / f"{symbol}USDT_8h_funding_mine.csv", table)
    output = run(build("shortseller"), load(alone, end_ms=end))
    paid = [f for f in output.fills if f.exec_type is ExecType.FUNDING]
    assert paid and all(f.fee == f.qty * f.price * Decimal("0.0005") * (
        1 if f.side.value == "Buy" else -1) for f in paid)
    json_once = to_json(summarize(output))
    assert json_once == to_json(summarize(run(build("shortseller"), load(alone, end_ms=end))))
    # and with the history switched off, the constant again
    off = run(build("shortseller"), load(alone, end_ms=end),
              BacktestSettings(funding_history=False))
    assert off.funding_sources["BTCUSDT"] == "constant 0.0001 per 8 h (fallback)"


def test_a_data_folder_gives_each_symbol_s_file_at_the_strategy_s_timeframe(
    tmp_path: Path, market_csv: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--data FOLDER``: momentum (4 h) takes the 4-hour file where both a 5-minute and a 4-hour
    one are there, and the JSON equals the run over that file named by hand; a folder with
    nothing at or below the timeframe is refused with its name."""
    folder = tmp_path / "market"
    folder.mkdir()
    for name in (FOUR_BTC, FIVE[0], "BTCUSDT_8h_funding_bybit-perp-20250924-20260721"):
        shutil.copy(market_csv(name), folder / f"{name}.csv")
    by_folder, by_file = tmp_path / "folder.json", tmp_path / "file.json"
    common = ["--strategy", "momentum", "--param", "symbols=BTCUSDT", "--to", "2026-01-01"]
    assert main(["backtest", *common, "--data", str(folder), "--json", str(by_folder)]) == 0
    assert main(["backtest", *common, "--data", str(folder / f"{FOUR_BTC}.csv"),
                 "--json", str(by_file)]) == 0
    assert by_folder.read_bytes() == by_file.read_bytes()
    result = json.loads(by_folder.read_text())
    assert (result["interval_min"], result["symbols"]) == (240, ["BTCUSDT"])
    assert result["funding"]["BTCUSDT"].startswith("history: ")
    capsys.readouterr()
    (folder / f"{FOUR_BTC}.csv").unlink()
    (folder / f"{FIVE[0]}.csv").unlink()
    assert main(["backtest", "--strategy", "momentum", "--data", str(folder)]) == 2
    assert f"--data {str(folder)!r}: no candle files of a 240-minute interval" in (
        capsys.readouterr().err)


def _bars(symbol: str, ts: list[int], lows: list[float] | None = None) -> BarArrays:
    n = len(ts)
    price = np.full(n, 100.0)
    low = np.array(lows) if lows is not None else price - 1
    return BarArrays(
        symbol, 5, np.array(ts, dtype=np.int64), price, price + 1, low, price, np.ones(n)
    )


def test_align_refuses_bar_times_that_repeat_or_go_back_naming_the_symbol_and_the_time() -> None:
    """Bars built in code reach the loop through align alone; a repeated time used to pass it
    and fail later, inside the run, as an IndexError."""
    t0, m5 = 1_767_225_600_000, 300_000  # 2026-01-01 00:00 UTC
    good = _bars("ETHUSDT", [t0 + i * m5 for i in range(6)])
    repeated = _bars("BTCUSDT", [t0, t0 + m5, t0 + 2 * m5, t0 + 2 * m5, t0 + 3 * m5])
    with pytest.raises(InvalidField) as refused:
        align([good, repeated])
    assert refused.value.field == "data BTCUSDT bar 3 ts_ms"
    assert refused.value.value == t0 + 2 * m5
    assert "2026-01-01T00:10Z repeats bar 2" in str(refused.value)
    backwards = _bars("BTCUSDT", [t0, t0 + 2 * m5, t0 + m5])
    with pytest.raises(InvalidField, match=r"BTCUSDT bar 2 ts_ms=1767225900000: "
                                           r"2026-01-01T00:05Z is before 2026-01-01T00:10Z"):
        align([backwards])
    short = _bars("BTCUSDT", [t0, t0 + m5])
    short = BarArrays("BTCUSDT", 5, short.ts_ms, short.open, short.high, short.low[:1],
                      short.close, short.volume)  # fmt: skip
    with pytest.raises(InvalidField, match="data BTCUSDT low='1 values': for 2 bar times"):
        align([short])
    # every path to a run goes through align: a symbol chosen from good data, and the run itself
    data = align([good, _bars("BTCUSDT", [t0 + i * m5 for i in range(6)])])
    assert data.select(["BTCUSDT"]).symbols == ["BTCUSDT"]
    with pytest.raises(InvalidField, match="BTCUSDT bar 3 ts_ms"):
        run(build("shortseller"), align([repeated]))


def test_align_refuses_a_bar_the_venue_would_refuse_naming_the_symbol_and_the_time() -> None:
    """The walk refuses such a bar only if it visits it; align refuses it in every run."""
    t0, m5 = 1_767_225_600_000, 300_000
    ts = [t0 + i * m5 for i in range(4)]
    with pytest.raises(InvalidField) as refused:
        align([_bars("SOLUSDT", ts, lows=[99.0, 99.0, 100.5, 99.0])])  # low above the open
    assert refused.value.field == "data SOLUSDT bar 2 at 2026-01-01T00:10Z"
    assert refused.value.value == [100.0, 101.0, 100.5, 100.0, 1.0]
    with pytest.raises(InvalidField, match="SOLUSDT bar 1 at 2026-01-01T00:05Z"):
        align([_bars("SOLUSDT", ts, lows=[99.0, float("nan"), 99.0, 99.0])])
