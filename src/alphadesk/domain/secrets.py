"""A wrapper that keeps a credential out of every repr, log line and error message.

Invariant 6 of the architecture: secrets never leave memory in clear. Wrapping at the edge where
a key is read (settings) means the only way to get the clear value is an explicit, greppable
``reveal()`` at the one place that signs a request.
"""

from __future__ import annotations

from typing import Final

_MASK: Final = "***"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wants a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({_MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled")
