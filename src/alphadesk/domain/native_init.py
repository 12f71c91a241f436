"""What a domain value class compiled by mypyc needs to behave as its pure-Python build does.

Compiled, a frozen dataclass becomes a native class (issue 17): its fields are C struct members,
read and written directly by the other compiled modules and made by a module's maker without any
``__init__`` (about a third of a backtest's per-order cost was building and reading these values
through slot descriptors). Two things change with that, and this module puts them back:

* a native attribute refuses a value of the wrong type with mypyc's ``TypeError`` (``str object
  expected; got int``) before the class's own checks run, so the generated ``__init__`` is wrapped:
  on that ``TypeError`` the class's checks run on the arguments as given (the same
  :class:`~alphadesk.domain.errors.InvalidField` naming the field as the pure build), and when
  they pass (a text for an enum field, which they parse), the parsed values are stored instead;
  an ``int`` field stores ``True`` as ``1``, so fields that must refuse a ``bool`` are named;
* a native instance has no ``__dict__`` or slots state for ``pickle``, so the class gets a
  ``__reduce__`` rebuilding it by its constructor, fields by name (the worker processes of a
  sweep pickle fills and bars).

This module stays interpreted on purpose: it runs once per class at import, and on the rare
wrong value.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from alphadesk.domain.errors import InvalidField

Check = Callable[..., Mapping[str, Any] | None]
"""The class's checks over its fields by name: raise InvalidField, or return parsed values to
store in place of the given ones (None: nothing to replace)."""


def is_native(cls: type[Any]) -> bool:
    """Whether ``cls`` was compiled by mypyc into a native class."""
    return hasattr(cls, "__mypyc_attrs__")


def native_value(
    cls: type[Any], prefix: str, check: Check | None = None, exact_ints: tuple[str, ...] = ()
) -> None:
    """Give the native class ``cls`` a field-naming constructor and pickling (see above).

    ``prefix`` names the fields in errors (``fill`` for ``fill.price``); ``check`` is the
    class's own checks; ``exact_ints`` are the ``int`` fields that refuse ``bool``.
    """
    names = tuple(f.name for f in fields(cls))
    init = cls.__init__
    signature = inspect.signature(init)

    def reduce(self: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return rebuild, (cls, names, tuple(getattr(self, name) for name in names))

    def named_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if exact_ints:
            values = _bound(signature, self, args, kwargs)
            for name in exact_ints:
                if type(values.get(name)) is bool:
                    raise InvalidField(f"{prefix}.{name}", values[name], "must be an int, not bool")
        try:
            init(self, *args, **kwargs)
        except TypeError:
            values = _bound(signature, self, args, kwargs)  # a wrong call raises its own here
            parsed = check(**values) if check is not None else None
            if parsed:
                values.update(parsed)
            _name_wrong_type(cls, prefix, values)
            init(self, **values)

    named_init.__doc__ = init.__doc__
    named_init.__signature__ = signature  # type: ignore[attr-defined]
    setattr(cls, "__init__", named_init)  # noqa: B010 - a class attribute mypy would refuse
    setattr(cls, "__reduce__", reduce)  # noqa: B010


def rebuild(cls: type[Any], names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """A value from its fields by name (keyword-only classes too): what ``__reduce__`` names."""
    return cls(**dict(zip(names, values, strict=True)))


def _bound(
    signature: inspect.Signature, self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    bound = signature.bind(self, *args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    del values["self"]
    return values


def _name_wrong_type(cls: type[Any], prefix: str, values: Mapping[str, Any]) -> None:
    """Raise InvalidField for the first field whose native attribute refuses its value."""
    new: Any = cls.__new__  # object.__new__ refuses a native class
    probe = new(cls)
    for name, value in values.items():
        try:
            object.__setattr__(probe, name, value)
        except TypeError as exc:
            raise InvalidField(f"{prefix}.{name}", value, str(exc)) from None
