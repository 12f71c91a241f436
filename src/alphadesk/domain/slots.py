"""Building a frozen, slotted dataclass from values that were checked already.

The trusted constructors (``Fill.trusted``, ``Order.trusted``, the simulator's request copy) run
once per order or fill on the backtest's hot path; writing each slot through its descriptor skips
``__init__``, ``__post_init__`` and the by-name lookup of ``object.__setattr__``, a third of the
cost of building one. Only code that holds values it checked itself may use this.

How the slots are written: the object is made as an instance of a plain class with the very same
``__slots__`` (its *shadow*: same layout, no ``__setattr__`` of its own), filled by ordinary
attribute stores, which the interpreter specialises to direct slot writes, then given its real
class by ``__class__`` assignment, which Python allows between classes of the same layout. The
result is indistinguishable from the constructor's object (type, slots, equality, hash), at under
half the cost of calling each slot descriptor's ``__set__`` (a method-wrapper call with an
argument tuple per field), the fallback for a class the shadow cannot stand in for (one with
bases of its own, say). The functions are generated with every store written out (no loop, no
``zip``): a loop costs as much again as the writes themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from alphadesk.domain.native_init import is_native

T = TypeVar("T")


def _compile(name: str, params: str, body: list[str], scope: dict[str, Any]) -> Any:
    source = f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in body)
    exec(source, scope)  # noqa: S102 - the source is built from field positions, never data
    return scope[name]


def _setters(cls: type[Any]) -> tuple[list[str], dict[str, Any]]:
    """Field names in order, and a scope binding ``cls``, ``new`` and ``put{i}`` per field."""
    names = [f.name for f in fields(cls)]
    # a native class (mypyc) refuses object.__new__; a plain one needs no more (a value class's
    # own __new__ only allocates, and calling it would add a Python call per object)
    new = cls.__new__ if is_native(cls) else object.__new__
    scope: dict[str, Any] = {"cls": cls, "new": new}
    for i, name in enumerate(names):
        scope[f"put{i}"] = getattr(cls, name).__set__  # the slot's descriptor, a base's too
    return names, scope


def _shadow(cls: type[Any], names: list[str]) -> type[Any] | None:
    """A plain class whose instances may become ``cls`` instances by ``__class__`` assignment,
    or None when ``cls`` is not a plain slotted class of its own fields (then the descriptors
    write the slots)."""
    slots = cls.__dict__.get("__slots__")
    if cls.__bases__ != (object,) or not isinstance(slots, tuple) or not set(names) <= set(slots):
        return None
    shadow = type(f"_{cls.__name__}Shadow", (), {"__slots__": slots})
    try:
        trial: Any = object.__new__(shadow)
        trial.__class__ = cls
    except TypeError:
        return None
    return shadow


def _writes(cls: type[Any], names: list[str], args: list[str], scope: dict[str, Any]) -> list[str]:
    """The body lines making ``made`` from one value per field (``args``, in field order)."""
    shadow = _shadow(cls, names)
    if shadow is None:
        lines = ["made = new(cls)"]
        return lines + [f"put{i}(made, {arg})" for i, arg in enumerate(args)]
    scope["shadow"] = shadow
    lines = ["made = new(shadow)"]
    lines += [f"made.{name} = {arg}" for name, arg in zip(names, args, strict=True)]
    return [*lines, "made.__class__ = cls"]


def slot_maker(cls: type[T]) -> Callable[..., T]:
    """A function making a ``cls`` from one positional argument per field, in field order."""
    names, scope = _setters(cls)
    args = [f"v{i}" for i in range(len(names))]
    body = [*_writes(cls, names, args, scope), "return made"]
    made: Callable[..., T] = _compile("make", ", ".join(args), body, scope)
    return made


def slot_builder(cls: type[T]) -> Callable[[Sequence[Any]], T]:
    """A function making a ``cls`` from one value per field, in field order."""
    names, scope = _setters(cls)
    args = [f"v{i}" for i in range(len(names))]
    body = [f"({', '.join(args)},) = values", *_writes(cls, names, args, scope), "return made"]
    built: Callable[[Sequence[Any]], T] = _compile("build", "values", body, scope)
    return built


def slot_replacer(cls: type[T], field: str) -> Callable[[T, Any], T]:
    """A function copying a ``cls`` with ``field`` set to a new value: every other slot is
    copied as it is, so only the new value needs checking."""
    names, scope = _setters(cls)
    if field not in names:
        raise TypeError(f"{cls.__name__} has no field {field!r}")
    values = ["value" if name == field else f"source.{name}" for name in names]
    body = [*_writes(cls, names, values, scope), "return made"]
    replaced: Callable[[T, Any], T] = _compile("replace", "source, value", body, scope)
    return replaced
