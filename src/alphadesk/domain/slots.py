"""Building a frozen, slotted dataclass from values that were checked already.

The trusted constructors (``Fill.trusted``, ``Order.trusted``, the simulator's request copy) run
once per order or fill on the backtest's hot path; writing each slot through its descriptor skips
``__init__``, ``__post_init__`` and the by-name lookup of ``object.__setattr__``, a third of the
cost of building one. Only code that holds values it checked itself may use this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def slot_builder(cls: type[T]) -> Callable[[Sequence[Any]], T]:
    """A function making a ``cls`` from one value per field, in field order."""
    setters = tuple(cls.__dict__[f.name].__set__ for f in fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def build(values: Sequence[Any]) -> T:
        made = new(cls)
        for put, value in zip(setters, values, strict=True):
            put(made, value)
        return made

    return build
