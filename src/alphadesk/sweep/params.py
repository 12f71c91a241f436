"""Parameter text to a strategy's types, and whether the strategy accepts a set.

Sweep values are text (``--grid``, ``--param``, the results file); the strategy's params class
declares the types. Ints, floats, booleans and comma-separated tuples are parsed by the same
reader as ``backtest --param`` (``strategies.catalog.parse_overrides``); Decimals and strings go
through as text (``strategies.params.override`` reads them exactly). The params
class's own checks then decide: a refused set (``slow`` not above ``fast``) is skipped, not run.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.strategies import STRATEGIES, build
from alphadesk.strategies.catalog import parse_overrides
from alphadesk.sweep.space import Axis, ParamSet


def known(strategy: str) -> dict[str, Any]:
    """The strategy's parameter names and declared types."""
    cls = STRATEGIES.get(strategy)
    if cls is None:
        names = ", ".join(sorted(STRATEGIES))
        raise InvalidField("--strategy", strategy, f"unknown; known: {names}")
    hints = typing.get_type_hints(cls.params_type)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls.params_type)}


def typed(strategy: str, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``pairs`` of (name, text) as ``build(strategy, **...)`` takes them; unknown names and
    unreadable values are InvalidField naming the parameter."""
    hints = known(strategy)
    pairs = list(pairs)
    for name, text in pairs:
        if name not in hints:
            raise InvalidField(
                name, text, f"is not a parameter of {strategy} ({', '.join(sorted(hints))})"
            )
    return parse_overrides(STRATEGIES[strategy], pairs)  # the --param reader, one for all


def check_axes(strategy: str, axes: Iterable[Axis], fixed: Mapping[str, str]) -> None:
    """Every swept name is the strategy's, not also fixed, and every value reads as its type."""
    hints = known(strategy)
    for axis in axes:
        if axis.name not in hints:
            raise InvalidField(
                "--grid", axis.name,
                f"is not a parameter of {strategy} ({', '.join(sorted(hints))})",
            )
        if axis.name in fixed:
            raise InvalidField("--grid", axis.name, "is also given as --param")
        for value in axis.values:
            try:
                typed(strategy, [(axis.name, value)])
            except InvalidField as exc:
                raise InvalidField("--grid", f"{axis.name}={value}", exc.reason) from None


def binder(
    strategy: str, fixed: Mapping[str, str]
) -> tuple[Callable[[ParamSet], dict[str, Any]], Callable[[ParamSet], str | None]]:
    """(typed overrides of a set with the fixed values, why the strategy refuses a set)."""
    base = list(fixed.items())
    typed(strategy, base)  # a fixed parameter that is not the strategy's fails here, once

    def overrides(params: ParamSet) -> dict[str, Any]:
        return typed(strategy, [*base, *params])

    def refusal(params: ParamSet) -> str | None:
        try:
            build(strategy, **overrides(params))
        except ValueError as exc:
            return str(exc)
        return None

    return overrides, refusal
