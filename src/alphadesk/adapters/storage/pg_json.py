"""A batch of rows sent to PostgreSQL as one JSON document instead of one array per column.

``INSERT … SELECT … FROM unnest($1::text[], $2::numeric[], …)`` made asyncpg encode every value
of the batch into PostgreSQL's binary array format in Python-level code (an abstract-class check
per element, ``Decimal.as_tuple`` per number): about 13 µs of the listener's CPU per fill for the
fills' insert alone, the largest single item in a flood. One JSON text built by msgspec in C costs
about 2.5 µs per fill, and PostgreSQL reads the document faster than the arrays too (6,667 fills:
112 ms instead of 180 ms). Nothing is lost on the way: a Decimal is written as its own string and
read back by ``numeric``'s input function with every digit and its scale; a UTC datetime as
RFC 3339 with its microseconds; a StrEnum as its value; None as null, which reads back as NULL.
"""

# SQL here is assembled from the callers' module constants (column names and types); every value
# travels in the bound JSON parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode


def rows_json(values: Sequence[tuple[Any, ...]]) -> str:
    """The rows as one JSON array of arrays: the ``$1`` of :func:`select_rows`."""
    return _encode(values).decode()


def select_rows(columns: Sequence[str], types: Sequence[str], param: int = 1) -> str:
    """``SELECT`` of one row per element of the JSON array in ``$param``, each column read as
    text and cast to its type."""
    picks = ", ".join(
        f"(r->>{i})::{t} AS {c}" for i, (c, t) in enumerate(zip(columns, types, strict=True))
    )
    return f"SELECT {picks} FROM jsonb_array_elements(${param}::jsonb) AS r"
