"""The --grid syntax, grid order, random draws, walk-forward windows and ranking: pure logic."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest

from alphadesk.domain.errors import InvalidField
from alphadesk.sweep.ranking import rank
from alphadesk.sweep.space import grid, key, parse_grid, point, sample, size
from alphadesk.sweep.walkforward import windows


def test_grid_ranges_lists_and_single_values() -> None:
    axes = parse_grid("slow=20:40:10, fast=5:6 ,frac=0.1:0.3:0.1,mode=a|b,lev=2")
    by = {a.name: a for a in axes}
    assert [a.name for a in axes] == ["fast", "frac", "lev", "mode", "slow"]
    assert by["slow"].values == ("20", "30", "40")
    assert by["fast"].values == ("5", "6")
    assert by["frac"].values == ("0.1", "0.2", "0.3")  # exact decimal steps, no 0.30000000000000004
    assert by["mode"].values == ("a", "b") and not by["mode"].ordered
    assert by["lev"].values == ("2",)
    assert by["slow"].ordered
    assert size(axes) == 3 * 2 * 3 * 2 * 1


def test_grid_stop_off_the_step_stays_inside() -> None:
    (axis,) = parse_grid("fast=5:50:7")
    assert axis.values == ("5", "12", "19", "26", "33", "40", "47")


@pytest.mark.parametrize(
    ("text", "part", "words"),
    [
        ("fast=5:x:5,slow=20:200:10", "fast=5:x:5", "'x' is not a number"),
        ("fast=5:50:5,slow", "slow", "expected name=start:stop:step"),
        ("fast=5:50:0", "fast=5:50:0", "step 0 must be > 0"),
        ("fast=50:5:5", "fast=50:5:5", "stop 5 is below start 50"),
        ("fast=1:2:3:4", "fast=1:2:3:4", "start:stop or start:stop:step"),
        ("fast=5,fast=6", "fast=6", "fast is given twice"),
        ("=5", "=5", "expected name="),
        ("fast=", "fast=", "has no value"),
        ("fast=a||b", "fast=a||b", "empty value"),
        ("fast=a|a", "fast=a|a", "twice"),
        ("9x=1", "9x=1", "is not a parameter name"),
        ("fast=1:1000000000", "fast=1:1000000000", "at most"),
        ("fast=nan:5", "fast=nan:5", "not a finite number"),
        (" , ", " , ", "names no parameter"),
    ],
)
def test_grid_errors_name_the_bad_part(text: str, part: str, words: str) -> None:
    with pytest.raises(InvalidField) as err:
        parse_grid(text)
    assert err.value.field == "--grid"
    assert err.value.value == part
    assert words in err.value.reason


def test_point_is_the_grid_order_and_sample_is_seeded_and_filtered() -> None:
    axes = parse_grid("a=1:4,b=1:3,c=x|y")
    every = list(grid(axes))
    assert [point(axes, i) for i in range(len(every))] == every
    assert len(set(every)) == 24

    def refusal(p: tuple[tuple[str, str], ...]) -> str | None:
        d = dict(p)
        return "b must be above a" if int(d["b"]) <= int(d["a"]) else None

    first = sample(axes, 5, seed=7, refusal=refusal)
    assert first == sample(axes, 5, seed=7, refusal=refusal)
    assert first != sample(axes, 5, seed=8, refusal=refusal)
    assert len(set(first)) == 5 and all(refusal(p) is None for p in first)
    valid = [p for p in every if refusal(p) is None]
    assert sorted(sample(axes, 100, seed=1, refusal=refusal)) == sorted(valid)  # all of them


def test_walk_forward_windows_tile_the_period() -> None:
    bar = 300_000
    start = 1_000 * bar
    end = start + 1_000 * bar
    (only,) = windows(start, end, bar, 1, Fraction(7, 10))
    assert (only.in_start_ms, only.in_end_ms, only.out_end_ms) == (start, start + 700 * bar, end)
    folds = windows(start, end, bar, 4, Fraction(1, 2))
    assert [f.fold for f in folds] == [0, 1, 2, 3]
    assert folds[0].in_start_ms == start and folds[-1].out_end_ms == end
    for f in folds:
        assert f.in_end_ms == f.out_start_ms  # out-of-sample right after its in-sample
        assert f.in_start_ms < f.in_end_ms < f.out_end_ms
        assert (f.in_end_ms - f.in_start_ms) % bar == 0
    for a, b in itertools.pairwise(folds):
        assert a.out_end_ms == b.out_start_ms  # out-of-sample windows are consecutive
    (whole,) = windows(start, end, bar, 1, Fraction(1))
    assert not whole.has_out_of_sample and whole.in_end_ms == end


@pytest.mark.parametrize(
    ("folds", "share", "field"),
    [(0, Fraction(1, 2), "--folds"), (1, Fraction(0), "--in-sample"),
     (2, Fraction(1), "--folds"), (2000, Fraction(1, 2), "--folds")],
)
def test_walk_forward_refuses_what_cannot_split(folds: int, share: Fraction, field: str) -> None:
    with pytest.raises(InvalidField) as err:
        windows(0, 1_000 * 300_000, 300_000, folds, share)
    assert err.value.field == field


def test_ranking_best_first_undefined_last_ties_by_parameters() -> None:
    rows = {
        "a": {"metrics": {"sharpe": "1.5"}},
        "b": {"metrics": {"sharpe": None}},
        "c": {"metrics": {"sharpe": "2.25"}},
        "d": None,  # a failed run
        "e": {"metrics": {"sharpe": "1.5"}},
        "f": {"metrics": {"sharpe": "-3"}},
    }
    ranked = rank(rows, "sharpe", lambda k: rows[k], lambda k: k)
    assert ranked == ["c", "a", "e", "f", "b", "d"]
    assert Decimal("2.25") > Decimal("1.5")
    with pytest.raises(InvalidField):
        rank(rows, "sharp", lambda k: rows[k], lambda k: k)


def test_key_is_canonical() -> None:
    assert key((("slow", "20"), ("fast", "5"))) == key({"fast": "5", "slow": "20"})
