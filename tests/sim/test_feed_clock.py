"""The candle loader on the real CSVs and on broken ones; the simulated clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from alphadesk.adapters.sim.clock import SimClock
from alphadesk.adapters.sim.feed import FeedError, load_csv
from alphadesk.domain.errors import InvalidField

HEADER = "ts_ms,open,high,low,close,volume\n"


def test_loads_a_real_file_as_columns_and_bars(market_csv: Callable[[str], Path]) -> None:
    data = load_csv(market_csv("ETHUSDT_5m_bybit-perp-20250924-20251122"))
    assert (data.symbol, data.interval_min, len(data)) == ("ETHUSDT", 5, 17_280)
    assert (np.diff(data.ts_ms) == 300_000).all()
    first = data.bar(0)
    assert first.open_time == datetime(2025, 9, 24, tzinfo=UTC)
    assert first.low <= min(first.open, first.close) <= first.high
    assert sum(1 for _ in data.bars()) == 17_280


def test_four_hour_file_name_gives_the_interval(market_csv: Callable[[str], Path]) -> None:
    data = load_csv(market_csv("SOLUSDT_4h_bybit-perp-20250924-20260721"))
    assert (data.symbol, data.interval_min) == ("SOLUSDT", 240)


@pytest.mark.parametrize(
    ("body", "row", "words"),
    [
        ("1767225600000,1,2,0.5,1.5,10\n1767225600000,1,2,0.5,1.5,10\n", 3, "increasing"),
        ("1767225600000,1,2,0.5,1.5,10\n1767225900000,1,0.9,0.5,1.5,10\n", 3, "low <="),
        ("1767225600000,1,2,0.5,x,10\n", 2, "not a number"),
        ("1767225600000,1,2,0.5,1.5\n", 2, "6 columns"),
        ("1767225600001,1,2,0.5,1.5,10\n", 2, "grid"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, body: str, row: int, words: str) -> None:
    path = tmp_path / "BTCUSDT_5m_bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(FeedError) as err:
        load_csv(path)
    assert f"{path} row {row}" in str(err.value) and words in str(err.value)


def test_bad_header_and_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT_1m_x.csv"
    path.write_text("time,o,h,l,c,v\n")
    with pytest.raises(FeedError, match="header"):
        load_csv(path)
    with pytest.raises(FeedError, match="SYMBOL"):
        load_csv(tmp_path / "candles.csv")


def test_clock_moves_forward_only() -> None:
    clock = SimClock(1_767_225_600_000)
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(60_000)
    clock.set(1_767_225_720_000)
    assert clock.now_ms == 1_767_225_720_000
    with pytest.raises(InvalidField, match=r"clock\.ms"):
        clock.set(1_767_225_600_000)
    with pytest.raises(InvalidField):
        SimClock(-1)
