"""The generated slot writers make the same objects as the dataclass constructors."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, astuple, dataclass, fields
from decimal import Decimal

import pytest

from alphadesk.domain.bars import Bar
from alphadesk.domain.positions import Position
from alphadesk.domain.slots import slot_builder, slot_maker, slot_replacer
from alphadesk.testing.builders import T0

ZERO = Decimal(0)
BAR = ("BTCUSDT", 5, 1_700_000_000_000, 1.0, 2.0, 0.5, 1.5, 10.0, 0.0)


def test_maker_and_builder_equal_the_constructor() -> None:
    made = slot_maker(Bar)(*BAR)
    built = slot_builder(Bar)(BAR)
    assert made == built == Bar(*BAR)
    assert type(made) is Bar and astuple(made) == BAR


def test_builder_refuses_a_wrong_number_of_values() -> None:
    with pytest.raises(ValueError):
        slot_builder(Bar)(BAR[:-1])
    with pytest.raises(TypeError):
        slot_maker(Bar)(*BAR[:-1])


def test_replacer_copies_every_other_field() -> None:
    before = Position("bot", "BTCUSDT", Decimal(2), Decimal(200), Decimal(1), Decimal(0), ZERO, T0)
    after = slot_replacer(Position, "cost")(before, Decimal(150))
    assert after is not before
    for f in fields(Position):
        expected = Decimal(150) if f.name == "cost" else getattr(before, f.name)
        assert getattr(after, f.name) == expected


def test_replacer_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError):
        slot_replacer(Position, "price")


@dataclass(frozen=True, slots=True)
class _Base:
    a: int


@dataclass(frozen=True, slots=True)
class _Derived(_Base):
    b: str


def test_a_class_with_bases_of_its_own_is_written_through_its_descriptors() -> None:
    made = slot_maker(_Derived)(1, "x")
    assert type(made) is _Derived and made == _Derived(1, "x")
    assert slot_replacer(_Derived, "b")(made, "y") == _Derived(1, "y")


def test_made_objects_are_the_frozen_class_itself() -> None:
    made = slot_maker(Bar)(*BAR)
    assert type(made) is Bar and hash(made) == hash(Bar(*BAR))
    with pytest.raises(FrozenInstanceError):
        made.close = 2.0  # type: ignore[misc]
