"""Errors the domain raises for bad input.

A rejected value must say which field and which value were wrong, so an operator can find the
offending payload in a log without a debugger. Values are shown with ``repr`` so that a float that
slipped in where a Decimal belongs is visible as such.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for every error raised by the domain layer."""


class InvalidField(DomainError, ValueError):
    """A value that breaks the domain's rules; names the field and shows the value."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class InvalidTransition(DomainError):
    """An order was asked to move to a state it cannot reach from where it is."""
