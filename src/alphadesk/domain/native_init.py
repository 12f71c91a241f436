"""What a domain value class compiled by mypyc needs to behave as its pure-Python build does.

Compiled, a frozen dataclass becomes a native class (issue 17): its fields are C struct members,
read and written directly by the other compiled modules and made by a module's maker without any
``__init__`` (about a third of a backtest's per-order cost was building and reading these values
through slot descriptors). Three things change with that, and this module puts them back:

* a native attribute refuses a value of the wrong type with mypyc's ``TypeError`` (``str object
  expected; got int``) before the class's own checks run, so the generated ``__init__`` is
  wrapped: on that ``TypeError`` the class's checks run on the arguments as given and raise the
  same :class:`~alphadesk.domain.errors.InvalidField` naming the field as the pure build (or,
  where no check names it, the field whose native attribute refused the value is named);
* a native ``int`` field stores ``True`` as ``1`` and a ``float`` field converts any number, so
  the ``int`` fields that must refuse a ``bool`` are looked at first (``exact_ints``), and a
  class with such fields can have its checks run before anything is stored (``check_first``),
  converting or refusing as its pure build's ``__post_init__`` does;
* a native instance has no ``__dict__`` or slots state for ``pickle`` and ``copy``, so the class
  gets a ``__reduce__`` that restores its fields as they are, unchecked, as unpickling a slotted
  instance does (a fill read leniently from the ledger copies like any other).

A class a maker builds defines ``__new__`` that only allocates (``object.__new__(cls)``): mypyc
compiles that call, inside ``__new__``, to the native allocation, and the maker's
``Cls.__new__(Cls)`` to a direct call of it, instead of looking ``__new__`` up on the type and
calling it through the type's slot wrapper (about 500 instructions per value). The pure build
keeps the method too (a class statement cannot differ between the builds), so its constructors'
signatures are set for ``inspect`` (:func:`init_signature`).

This module stays interpreted on purpose: it runs once per class at import, and then only for
constructors called from interpreted code and for copies.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from alphadesk.domain.errors import InvalidField

Check = Callable[..., Mapping[str, Any] | None]
"""A class's checks over its fields, by the fields' names and in their order: raise InvalidField
naming the first wrong one, or return values to store in place of the given ones (None: none)."""


def is_native(cls: type[Any]) -> bool:
    """Whether ``cls`` was compiled by mypyc into a native class."""
    return hasattr(cls, "__mypyc_attrs__")


def native_value(
    cls: type[Any],
    prefix: str,
    check: Check | None = None,
    exact_ints: tuple[str, ...] = (),
    check_first: bool = False,
) -> None:
    """Give the native class ``cls`` a field-naming constructor and copying (see above).

    ``prefix`` names the fields in errors (``fill`` for ``fill.price``); ``check`` is the
    class's own checks; ``exact_ints`` are the ``int`` fields that refuse ``bool`` (named by
    ``check``); ``check_first`` runs ``check`` before every construction and stores what it
    returns (for fields a native store would convert silently).
    """
    names = tuple(f.name for f in fields(cls))
    init = cls.__init__
    signature = inspect.signature(init)
    at = {name: names.index(name) for name in exact_ints}

    def reduce(self: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return restore, (cls, names, tuple(getattr(self, name) for name in names))

    def named_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if check is not None:
            if check_first:
                values = _bound(signature, init, self, args, kwargs)
                values.update(check(**values) or {})
                init(self, **values)
                return
            for name, i in at.items():
                given = kwargs[name] if name in kwargs else args[i] if i < len(args) else None
                if type(given) is bool:
                    check(*args, **kwargs)  # names it, as the pure build's __post_init__ does
        try:
            init(self, *args, **kwargs)
            return
        except TypeError as exc:
            refused = exc
        values = _bound(signature, init, self, args, kwargs)
        if check is not None:
            check(**values)
        _name_wrong_type(cls, prefix, values)
        raise refused

    named_init.__doc__ = init.__doc__
    named_init.__signature__ = signature  # type: ignore[attr-defined]
    setattr(cls, "__init__", named_init)  # noqa: B010 - a class attribute mypy would refuse
    setattr(cls, "__reduce__", reduce)  # noqa: B010
    init_signature(cls)


def init_signature(*classes: type[Any]) -> None:
    """Show ``inspect`` each class's constructor signature, which it would otherwise read from
    the allocating ``__new__`` a maker's class defines for its compiled build (there a direct
    native allocation; on the pure build it stays, as a class statement cannot differ between
    the builds, and a ``__new__`` deleted later would leave the type's slot calling it)."""
    for cls in classes:
        signature = inspect.signature(cls.__init__)
        own = tuple(signature.parameters.values())[1:]
        setattr(cls, "__signature__", signature.replace(parameters=own))  # noqa: B010


def restore(cls: type[Any], names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """A value with these fields, stored as they are (what ``__reduce__`` names): a copy of a
    value that exists already, so nothing is checked again."""
    made = _blank(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(made, name, value)
    return made


def _blank(cls: type[Any]) -> Any:
    """An instance of ``cls`` with no field set (object.__new__ refuses a native class)."""
    new: Any = cls.__new__
    return new(cls)


def _bound(
    signature: inspect.Signature,
    init: Callable[..., None],
    self: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The call's values by field name; a call that does not fit the constructor raises the
    constructor's own TypeError (its message names the class)."""
    try:
        bound = signature.bind(self, *args, **kwargs)
    except TypeError:
        init(self, *args, **kwargs)
        raise
    bound.apply_defaults()
    values = dict(bound.arguments)
    del values["self"]
    return values


def _name_wrong_type(cls: type[Any], prefix: str, values: Mapping[str, Any]) -> None:
    """Raise InvalidField for the first field whose native attribute refuses its value."""
    probe = _blank(cls)
    for name, value in values.items():
        try:
            object.__setattr__(probe, name, value)
            continue
        except TypeError as exc:
            reason = str(exc)
        raise InvalidField(f"{prefix}.{name}", value, reason)  # outside the except: no context
