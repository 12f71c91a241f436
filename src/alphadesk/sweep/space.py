"""The parameter space of a sweep: the ``--grid`` syntax, grid enumeration and random draws.

``--grid 'fast=5:50:5,slow=20:200:10'``: comma-separated parts, one per parameter, each
``name=start:stop:step`` (inclusive, exact decimal steps), ``name=start:stop`` (step 1),
``name=value`` or ``name=a|b|c`` (an explicit list, any text). Values stay text in their canonical
form ("5", "0.1", "true"); the strategy's params class turns them into its types, so the results
file and its keys never depend on float printing. Every error names the part that is wrong.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from alphadesk.domain.errors import InvalidField

FIELD = "--grid"
MAX_AXIS_VALUES = 100_000

ParamSet = tuple[tuple[str, str], ...]
"""One point of the space: (name, text value) pairs sorted by name."""


@dataclass(frozen=True, slots=True)
class Axis:
    name: str
    values: tuple[str, ...]
    ordered: bool
    """True for a numeric range (a search may treat neighbours as close), False for a list."""


def _number(part: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidField(FIELD, part, f"{text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise InvalidField(FIELD, part, f"{text.strip()!r} is not a finite number")
    return value


def canonical(value: Decimal) -> str:
    """'5' for 5.0, '0.1' for 0.10: one spelling per number, so keys match across runs."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def _axis(part: str) -> Axis:
    name, sep, spec = part.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InvalidField(FIELD, part, "expected name=start:stop:step, name=a|b|c or name=value")
    if not name.isidentifier():
        raise InvalidField(FIELD, part, f"{name!r} is not a parameter name")
    spec = spec.strip()
    if not spec:
        raise InvalidField(FIELD, part, "has no value")
    if "|" in spec:
        values = tuple(v.strip() for v in spec.split("|"))
        if any(not v for v in values):
            raise InvalidField(FIELD, part, "has an empty value in its list")
        if len(set(values)) != len(values):
            raise InvalidField(FIELD, part, "lists a value twice")
        return Axis(name, values, ordered=False)
    if ":" not in spec:
        return Axis(name, (spec,), ordered=False)
    bits = spec.split(":")
    if len(bits) > 3:
        raise InvalidField(FIELD, part, "a range is start:stop or start:stop:step")
    start, stop = _number(part, bits[0]), _number(part, bits[1])
    step = _number(part, bits[2]) if len(bits) == 3 else Decimal(1)
    if step <= 0:
        raise InvalidField(FIELD, part, f"step {canonical(step)} must be > 0")
    if stop < start:
        raise InvalidField(
            FIELD, part, f"stop {canonical(stop)} is below start {canonical(start)}"
        )
    count = int((stop - start) // step) + 1
    if count > MAX_AXIS_VALUES:
        raise InvalidField(FIELD, part, f"gives {count} values (at most {MAX_AXIS_VALUES})")
    return Axis(name, tuple(canonical(start + i * step) for i in range(count)), ordered=True)


def parse_grid(text: str) -> tuple[Axis, ...]:
    """The axes of ``--grid`` text, sorted by name; raises InvalidField naming the bad part."""
    parts = [p for p in (p.strip() for p in text.split(",")) if p]
    if not parts:
        raise InvalidField(FIELD, text, "names no parameter")
    axes: dict[str, Axis] = {}
    for part in parts:
        axis = _axis(part)
        if axis.name in axes:
            raise InvalidField(FIELD, part, f"{axis.name} is given twice")
        axes[axis.name] = axis
    return tuple(axes[n] for n in sorted(axes))


def size(axes: Sequence[Axis]) -> int:
    total = 1
    for axis in axes:
        total *= len(axis.values)
    return total


def grid(axes: Sequence[Axis]) -> Iterator[ParamSet]:
    """Every point, the last axis varying fastest."""
    names = [a.name for a in axes]
    for combo in itertools.product(*(a.values for a in axes)):
        yield tuple(zip(names, combo, strict=True))


def point(axes: Sequence[Axis], index: int) -> ParamSet:
    """The ``index``-th point of :func:`grid` without enumerating the ones before it."""
    out: list[tuple[str, str]] = []
    for axis in reversed(axes):
        index, i = divmod(index, len(axis.values))
        out.append((axis.name, axis.values[i]))
    return tuple(reversed(out))


Refusal = Callable[[ParamSet], str | None]
"""Why a point cannot run (the strategy refuses the values), or None."""


def sample(axes: Sequence[Axis], n: int, seed: int, refusal: Refusal) -> list[ParamSet]:
    """``n`` distinct points drawn uniformly among those ``refusal`` accepts (fewer when the
    space holds fewer), in draw order; the same seed draws the same points."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    total = size(axes)
    chosen: list[ParamSet] = []
    seen: set[int] = set()
    if total <= 200_000:  # small enough to draw from a shuffled order of every point
        order = list(range(total))
        rng.shuffle(order)
        for index in order:
            if len(chosen) >= n:
                break
            p = point(axes, index)
            if refusal(p) is None:
                chosen.append(p)
        return chosen
    attempts = 0
    while len(chosen) < n and attempts < 50 * n:
        attempts += 1
        index = rng.randrange(total)
        if index in seen:
            continue
        seen.add(index)
        p = point(axes, index)
        if refusal(p) is None:
            chosen.append(p)
    return chosen


def key(params: ParamSet | Mapping[str, str]) -> str:
    """The canonical text of a point, for result keys and tie-breaks."""
    items = sorted(params.items()) if isinstance(params, Mapping) else sorted(params)
    return json.dumps(dict(items), sort_keys=True, separators=(",", ":"))


def merge(fixed: Mapping[str, str], params: ParamSet) -> ParamSet:
    """``params`` over the fixed ones; a parameter in both is refused by the caller."""
    out = dict(fixed)
    out.update(params)
    return tuple(sorted(out.items()))
