"""Building a frozen, slotted dataclass from values that were checked already.

The trusted constructors (``Fill.trusted``, ``Order.trusted``, the simulator's request copy) run
once per order or fill on the backtest's hot path; writing each slot through its descriptor skips
``__init__``, ``__post_init__`` and the by-name lookup of ``object.__setattr__``, a third of the
cost of building one. Only code that holds values it checked itself may use this.

The functions are generated with one descriptor call per field written out (no loop, no ``zip``):
a loop over the setters costs as much again as the writes themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def _compile(name: str, params: str, body: list[str], scope: dict[str, Any]) -> Any:
    source = f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in body)
    exec(source, scope)  # noqa: S102 - the source is built from field positions, never data
    return scope[name]


def _setters(cls: type[Any]) -> tuple[list[str], dict[str, Any]]:
    """Field names in order, and a scope binding ``cls``, ``new`` and ``put{i}`` per field."""
    names = [f.name for f in fields(cls)]
    scope: dict[str, Any] = {"cls": cls, "new": object.__new__}
    for i, name in enumerate(names):
        scope[f"put{i}"] = cls.__dict__[name].__set__
    return names, scope


def slot_maker(cls: type[T]) -> Callable[..., T]:
    """A function making a ``cls`` from one positional argument per field, in field order."""
    names, scope = _setters(cls)
    args = [f"v{i}" for i in range(len(names))]
    body = ["made = new(cls)"]
    body += [f"put{i}(made, {arg})" for i, arg in enumerate(args)]
    body.append("return made")
    made: Callable[..., T] = _compile("make", ", ".join(args), body, scope)
    return made


def slot_builder(cls: type[T]) -> Callable[[Sequence[Any]], T]:
    """A function making a ``cls`` from one value per field, in field order."""
    names, scope = _setters(cls)
    args = [f"v{i}" for i in range(len(names))]
    body = [f"({', '.join(args)},) = values", "made = new(cls)"]
    body += [f"put{i}(made, {arg})" for i, arg in enumerate(args)]
    body.append("return made")
    built: Callable[[Sequence[Any]], T] = _compile("build", "values", body, scope)
    return built


def slot_replacer(cls: type[T], field: str) -> Callable[[T, Any], T]:
    """A function copying a ``cls`` with ``field`` set to a new value: every other slot is
    copied as it is, so only the new value needs checking."""
    names, scope = _setters(cls)
    body = ["made = new(cls)"]
    for i, name in enumerate(names):
        if name == field:
            body.append(f"put{i}(made, value)")
        else:
            scope[f"get{i}"] = cls.__dict__[name].__get__
            body.append(f"put{i}(made, get{i}(source))")
    if field not in names:
        raise TypeError(f"{cls.__name__} has no field {field!r}")
    body.append("return made")
    replaced: Callable[[T, Any], T] = _compile("replace", "source, value", body, scope)
    return replaced
