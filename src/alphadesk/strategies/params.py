"""Overriding a strategy's frozen params by name, with the errors an operator needs.

Overrides come from the CLI, a TOML file or a test (``build("lxalgo", max_active_trades=10)``),
so values arrive as ints, floats or strings. Each value is coerced to the field's declared type
(float -> Decimal through its repr, never its binary expansion; list -> tuple) and the params
class's ``__post_init__`` then checks ranges. Any problem is a ValueError naming the field.
"""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from alphadesk.domain.errors import InvalidField

T = TypeVar("T")


def _coerce(name: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if hint is Decimal:
        if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
            raise InvalidField(name, value, "must be a decimal number")
        try:
            result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise InvalidField(name, value, "must be a decimal number") from None
        if not result.is_finite():
            raise InvalidField(name, value, "must be finite")
        return result
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidField(name, value, "must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidField(name, value, "must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidField(name, value, "must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InvalidField(name, value, "must be a string")
        return value
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise InvalidField(name, value, "must be a list")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_coerce(f"{name}[{i}]", item, v) for i, v in enumerate(value))
    return value


def override(params: T, overrides: dict[str, Any]) -> T:
    """``params`` with ``overrides`` applied, coerced and validated."""
    if not dataclasses.is_dataclass(params) or isinstance(params, type):
        raise TypeError(f"params must be a dataclass instance, got {params!r}")
    hints = typing.get_type_hints(type(params))
    known = {f.name for f in dataclasses.fields(params)}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            allowed = ", ".join(sorted(known))
            raise InvalidField(name, value, f"is not a parameter of this strategy ({allowed})")
        changes[name] = _coerce(name, hints[name], value)
    return dataclasses.replace(params, **changes)


def require(name: str, value: Any, ok: bool, reason: str) -> None:
    """Raise InvalidField(name, value, reason) unless ``ok``: the params' range checks."""
    if not ok:
        raise InvalidField(name, value, reason)
