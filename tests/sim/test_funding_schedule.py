"""Each symbol settles on its own schedule: its instrument's interval, else its recorded history's
spacing, else the configured 8 hours; inside a recorded history's span at the recorded times;
a rate recorded later (a live feed's next rate) moves an open position's next settlement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from random import Random
from typing import Any

import msgspec
import pytest

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.parse_market import instrument_from_info
from alphadesk.adapters.sim.engine import MatchingEngine
from alphadesk.adapters.sim.funding import FundingSchedule, hours, inferred_interval_ms
from alphadesk.domain.checks import to_epoch_ms
from alphadesk.domain.enums import Side
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.instruments import Instrument
from alphadesk.domain.requests import OrderRequest

from .kit import HOUR, MIN5, SYM, T0, fills, order

D = Decimal


def settle_times(engine: MatchingEngine, start: int, end: int) -> list[tuple[int, Decimal]]:
    """Hours after T0 and rates of the funding fills from 5-minute bars in [start, end)."""
    out: list[tuple[int, Decimal]] = []
    for t in range(start, end, MIN5):
        for f in fills(engine.on_bar(SYM, 50000.0, 50000.0, 50000.0, 50000.0, t, t + MIN5)):
            out.append(((to_epoch_ms(f.exec_time) - T0) // HOUR, f.fee / (f.qty * f.price)))
    return out


def test_the_schedule_is_the_grid_outside_the_recorded_span_and_the_records_inside() -> None:
    s = FundingSchedule(8 * HOUR, [T0 + 4 * HOUR, T0 + 8 * HOUR, T0 + 12 * HOUR])
    assert s.next_after(T0 - 8 * HOUR) == T0  # the grid before the records
    assert s.next_after(T0) == T0 + 4 * HOUR  # the grid runs into the first record
    assert s.next_after(T0 + 4 * HOUR) == T0 + 8 * HOUR
    assert s.next_after(T0 + 9 * HOUR) == T0 + 12 * HOUR
    assert s.next_after(T0 + 12 * HOUR) == T0 + 16 * HOUR  # the grid after the records
    assert s.between(T0 - 1, T0 + 24 * HOUR) == [
        T0 + h * HOUR for h in (0, 4, 8, 12, 16, 24)
    ]
    assert s.add(T0 + 20 * HOUR) and not s.add(T0 + 20 * HOUR)
    assert s.next_after(T0 + 12 * HOUR) == T0 + 20 * HOUR


def chained(schedule: FundingSchedule, start: int, end: int) -> list[int]:
    """``between`` as it was once written: next_after from ``start`` until past ``end``."""
    out: list[int] = []
    t = schedule.next_after(start)
    while t <= end:
        out.append(t)
        t = schedule.next_after(t)
    return out


def test_between_is_next_after_chained_over_many_ranges() -> None:
    """Grids of every Bybit interval, with no records, records on and off the grid, with holes
    and a change of spacing, and ranges starting and ending before, on, inside and after them."""
    rng = Random(17)
    for case in range(300):
        interval = rng.choice((HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR))
        origin = T0 + rng.randrange(-48, 48) * HOUR + rng.choice((0, 0, 1, 30 * 60_000))
        times = {origin + rng.randrange(0, 96) * rng.choice((HOUR, 2 * HOUR, 4 * HOUR))
                 for _ in range(rng.randrange(0, 30) if case % 5 else 0)}  # fmt: skip
        schedule = FundingSchedule(interval, times)
        for _ in range(40):
            start = origin + rng.randrange(-72 * HOUR, 500 * HOUR)
            if rng.random() < 0.3 and schedule.times:  # exactly on a record or a boundary
                start = rng.choice((rng.choice(schedule.times), start - start % interval))
            end = start + rng.choice((0, 1, -1, HOUR)) * rng.randrange(0, 400 * HOUR // HOUR + 1)
            assert schedule.between(start, end) == chained(schedule, start, end), (
                interval, sorted(times), start, end)  # fmt: skip
    assert FundingSchedule(8 * HOUR).between(T0, T0 - 1) == []


def test_the_interval_is_inferred_from_the_most_common_spacing() -> None:
    four = [T0 + h * HOUR for h in range(0, 48, 4)]
    assert inferred_interval_ms(four) == 4 * HOUR
    assert inferred_interval_ms([*four[:3], T0 + 24 * HOUR]) == 4 * HOUR  # a hole: still 4 h
    assert inferred_interval_ms([T0, T0 + 5 * HOUR, T0 + 10 * HOUR]) is None  # 5 h: not Bybit's
    assert inferred_interval_ms([T0]) is None
    assert (hours(4 * HOUR), hours(30 * 60_000)) == ("4 h", "30 min")


def test_instrument_funding_interval_is_minutes_dividing_a_day() -> None:
    assert Instrument(SYM, D("0.1"), D("0.001"), D("0.001"), funding_interval_min=240)
    for bad in (0, 7 * 60, -480, 480.0):
        with pytest.raises(InvalidField) as err:
            Instrument(SYM, D("0.1"), D("0.001"), D("0.001"), funding_interval_min=bad)  # type: ignore[arg-type]
        assert err.value.field == "instrument.funding_interval_min"


def test_instruments_info_funding_interval_is_read_in_minutes(
    bybit_payload: Callable[[str], Any],
) -> None:
    """Bybit's ``fundingInterval`` is minutes (TSLAUSDT: 480, an 8-hour symbol); 0 (spot,
    options) means the rules do not say."""
    [tsla] = bybit_payload("http_get_instruments_linear_symbol_type")["result"]["list"]
    info = msgspec.convert(tsla, w.InstrumentInfo, strict=False)
    assert instrument_from_info(info).funding_interval_min == 480
    unsaid = msgspec.structs.replace(info, fundingInterval=0)
    assert instrument_from_info(unsaid).funding_interval_min is None


def test_the_instrument_interval_decides_and_the_constant_pays(
    instruments: dict[str, Instrument],
) -> None:
    four = replace(instruments[SYM], funding_interval_min=240)
    engine = MatchingEngine("backtest", [four])
    engine.open_account("A", D(10000))
    engine.on_price(SYM, D(50000), T0)
    engine.place("A", order_buy(), T0 + HOUR)
    assert settle_times(engine, T0 + HOUR, T0 + 24 * HOUR + MIN5) == [
        (h, D("0.0001")) for h in (4, 8, 12, 16, 20, 24)
    ]
    assert (engine.funding_interval_ms(SYM), engine.funding_interval_source(SYM)) == (
        4 * HOUR, "instrument")


def test_a_history_sets_the_interval_of_a_symbol_whose_rules_do_not_say(
    engine: MatchingEngine,
) -> None:
    engine.set_funding_history(SYM, {T0 + h * HOUR: D("0.0003") for h in range(0, 13, 2)})
    assert (engine.funding_interval_ms(SYM), engine.funding_interval_source(SYM)) == (
        2 * HOUR, "history")
    engine.place("A", order_buy(), T0 + HOUR)
    # recorded every 2 h to 12 h, then the 2-hour grid at the constant
    assert settle_times(engine, T0 + HOUR, T0 + 17 * HOUR) == [
        (h, D("0.0003")) for h in (2, 4, 6, 8, 10, 12)
    ] + [(14, D("0.0001")), (16, D("0.0001"))]


def test_a_rate_recorded_later_moves_an_open_positions_next_settlement(
    engine: MatchingEngine,
) -> None:
    """A live feed learns the next settlement (at 04:00, off the 8-hour grid) while a position
    is open: it settles there, at that rate, and then carries on on the grid."""
    engine.place("A", order_buy(), T0 + HOUR)
    engine.set_funding_rate_at(SYM, T0 + 4 * HOUR, D("0.0007"))
    assert engine.next_funding_ms(SYM, T0 + HOUR) == T0 + 4 * HOUR
    assert settle_times(engine, T0 + HOUR, T0 + 17 * HOUR) == [
        (4, D("0.0007")), (8, D("0.0001")), (16, D("0.0001"))]
    engine.set_funding_rate_at(SYM, T0 + 24 * HOUR, D("-0.0002"))  # the same time again: kept
    engine.set_funding_rate_at(SYM, T0 + 24 * HOUR, D("-0.0004"))  # ... at the newest rate
    assert settle_times(engine, T0 + 17 * HOUR, T0 + 25 * HOUR) == [(24, D("-0.0004"))]
    with pytest.raises(InvalidField) as err:
        engine.set_funding_rate_at(SYM, -1, D("0.0001"))
    assert err.value.field == "funding.ts_ms"


def order_buy() -> OrderRequest:
    return order(Side.BUY, "0.1", "e")
