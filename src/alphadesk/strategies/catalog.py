"""Finding a strategy class by what a trader types, and describing its parameters.

A strategy is named one of three ways:

* a built-in name (``ema_cross``, ``shortseller``, ``lxalgo``, ``momentum``);
* ``path/to/file.py:ClassName``, a class in the trader's own file;
* the name of an entry point in the ``alphadesk.strategies`` group, for strategies shipped in an
  installed package (``[project.entry-points."alphadesk.strategies"] mine = "pkg.mod:Mine"``).

Every way ends in the same checks (a :class:`~alphadesk.strategies.api.Strategy` subclass with a
``name``, a dataclass ``params_type`` and every abstract method written), and every failure is a
:class:`StrategyLoadError` that says what was asked for and what is wrong, never a traceback
from deep inside the import machinery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import inspect
import re
import sys
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk.domain.errors import InvalidField
from alphadesk.strategies.api import Strategy
from alphadesk.strategies.params import override

ENTRY_POINT_GROUP = "alphadesk.strategies"
NAME_RE = re.compile(r"[A-Za-z0-9_]{1,40}")
"""A strategy's name starts its backtest bot id, which goes into Bybit's orderLinkId."""
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")

StrategyClass = type[Strategy[Any]]


class StrategyLoadError(ValueError):
    """The strategy asked for cannot be used; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class ParamInfo:
    name: str
    type_name: str
    default: str


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """What ``alphadesk strategies`` and ``backtest --help`` show for one strategy."""

    name: str
    source: str
    timeframe_min: int | None
    summary: str
    params: tuple[ParamInfo, ...]


# ------------------------------------------------------------------------------------------------
# resolving


def resolve(spec: str, builtins: Mapping[str, StrategyClass]) -> StrategyClass:
    """The class ``spec`` names (see the module docstring), checked."""
    spec = spec.strip()
    if not spec:
        raise StrategyLoadError("strategy='': name a strategy or path/to/file.py:ClassName")
    path_text, sep, class_name = spec.rpartition(":")
    if sep and (path_text.endswith(".py") or "/" in path_text or "\\" in path_text):
        return load_file(Path(path_text), class_name)
    if spec.endswith(".py"):
        raise StrategyLoadError(
            f"strategy={spec!r}: name the class too, as {spec}:ClassName"
        )
    if spec in builtins:
        return builtins[spec]
    for entry in _entry_points():
        if entry.name == spec:
            return _load_entry_point(entry)
    known = sorted({*builtins, *(e.name for e in _entry_points())})
    raise StrategyLoadError(
        f"strategy={spec!r}: unknown; known: {', '.join(known)} "
        "(or path/to/file.py:ClassName)"
    )


def load_file(path: Path, class_name: str) -> StrategyClass:
    """Import ``path`` as a module of its own and return its strategy class ``class_name``."""
    where = f"{path}:{class_name}"
    if not class_name.isidentifier():
        raise StrategyLoadError(f"strategy={where!r}: {class_name!r} is not a class name")
    if path.suffix != ".py":
        raise StrategyLoadError(f"strategy={where!r}: {path} is not a .py file")
    if not path.is_file():
        raise StrategyLoadError(f"strategy={where!r}: file {path} not found")
    resolved = path.resolve()
    # named by path and content: the same file loads once, an edited one loads afresh
    digest = hashlib.sha256(str(resolved).encode() + b"\0" + resolved.read_bytes())
    module_name = f"alphadesk_user_strategy_{digest.hexdigest()[:16]}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, resolved)
        if spec is None or spec.loader is None:
            raise StrategyLoadError(f"strategy={where!r}: {path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        # registered before running it: dataclasses and typing.get_type_hints look the module up
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise StrategyLoadError(
                f"strategy={where!r}: importing {path} failed: {_describe_error(exc)}"
            ) from exc
    found = getattr(module, class_name, None)
    if found is None:
        mine = sorted(
            n for n, v in vars(module).items()
            if inspect.isclass(v) and issubclass(v, Strategy) and v.__module__ == module_name
        )
        hint = f"strategies in it: {', '.join(mine)}" if mine else "it defines no Strategy class"
        raise StrategyLoadError(f"strategy={where!r}: {path} has no class {class_name!r}; {hint}")
    return check(found, where)


def _describe_error(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    tb = exc.__traceback__
    line = None
    while tb is not None:
        line = tb.tb_lineno
        tb = tb.tb_next
    at = f" (line {line})" if line is not None else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def _load_entry_point(entry: importlib.metadata.EntryPoint) -> StrategyClass:
    where = f"{entry.name} (entry point {entry.value})"
    try:
        found = entry.load()
    except Exception as exc:
        raise StrategyLoadError(
            f"strategy={where}: loading failed: {_describe_error(exc)}"
        ) from exc
    return check(found, where)


def check(found: object, where: str) -> StrategyClass:
    """``found`` if it is a usable strategy class, else a StrategyLoadError saying why not."""
    if not inspect.isclass(found) or not issubclass(found, Strategy):
        what = f"class {found.__name__}" if inspect.isclass(found) else repr(found)
        raise StrategyLoadError(
            f"strategy={where!r}: {what} is not a Strategy "
            "(subclass alphadesk.strategies.api.Strategy)"
        )
    abstract = sorted(getattr(found, "__abstractmethods__", ()))
    if abstract:
        raise StrategyLoadError(
            f"strategy={where!r}: {found.__name__} does not implement {', '.join(abstract)}"
        )
    name = getattr(found, "name", None)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise StrategyLoadError(
            f"strategy={where!r}: {found.__name__}.name={name!r} must be 1-40 letters, digits "
            "or _ (it names the strategy's bot and orders)"
        )
    params_type = getattr(found, "params_type", None)
    if not (inspect.isclass(params_type) and dataclasses.is_dataclass(params_type)):
        raise StrategyLoadError(
            f"strategy={where!r}: {found.__name__}.params_type must be a dataclass, "
            f"got {params_type!r}"
        )
    return found


def available(builtins: Mapping[str, StrategyClass]) -> list[tuple[str, str, StrategyClass | str]]:
    """(name, source, class or the reason it cannot load) of every built-in and installed one."""
    out: list[tuple[str, str, StrategyClass | str]] = [
        (name, "built-in", cls) for name, cls in sorted(builtins.items())
    ]
    for entry in _entry_points():
        source = f"entry point {entry.value}"
        if entry.name in builtins:
            out.append((entry.name, source, "shadowed by the built-in of the same name"))
            continue
        try:
            out.append((entry.name, source, _load_entry_point(entry)))
        except StrategyLoadError as exc:
            out.append((entry.name, source, str(exc)))
    return out


# ------------------------------------------------------------------------------------------------
# parameters


def parse_overrides(cls: StrategyClass, raw: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``--param key=value`` strings as the params' field types (int, float, bool, tuples of
    strings); Decimal and str stay text for :func:`override`, which checks every value and names
    an unknown key together with the known ones."""
    hints = typing.get_type_hints(cls.params_type)
    out: dict[str, Any] = {}
    for key, value in raw:
        hint = hints.get(key)
        try:
            if hint is int:
                out[key] = int(value)
            elif hint is float:
                out[key] = float(value)
            elif hint is bool:
                out[key] = _flag(key, value)
            elif typing.get_origin(hint) is tuple:
                out[key] = tuple(v.strip() for v in value.split(",") if v.strip())
            else:
                out[key] = value
        except InvalidField:
            raise
        except ValueError:
            raise InvalidField(key, value, f"is not a valid {type_name(hint)}") from None
    return out


def _flag(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidField(key, value, "must be one of true/false, 1/0, yes/no")


def instantiate(cls: StrategyClass, overrides: Mapping[str, Any]) -> Strategy[Any]:
    """``cls`` with its default params changed by ``overrides`` (checked by name and value)."""
    params = override(cls.params_type(), dict(overrides))
    return cls(params)


def type_name(hint: Any) -> str:
    if hint is None:
        return "?"
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        inner = type_name(args[0]) if args else "Any"
        return f"list of {inner}"
    if hint is Decimal:
        return "decimal"
    return getattr(hint, "__name__", str(hint))


def show_value(value: Any) -> str:
    """A parameter value as a trader would type it back on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, tuple | list):
        if value and dataclasses.is_dataclass(value[0]):
            return f"{len(value)} x {type(value[0]).__name__}"
        return ",".join(show_value(v) for v in value)
    return str(value)


def describe(name: str, source: str, cls: StrategyClass) -> StrategyInfo:
    hints = typing.get_type_hints(cls.params_type)
    params = []
    for f in dataclasses.fields(cls.params_type):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = "(required)"
        params.append(ParamInfo(f.name, type_name(hints.get(f.name)), show_value(default)))
    try:
        timeframe: int | None = int(cls().timeframe_min)
    except Exception:  # a strategy that cannot be built with its defaults still gets listed
        timeframe = getattr(cls, "timeframe_min", None)
    # the class's own docstring (never the inherited Strategy one), else its module's
    doc = cls.__doc__ or getattr(sys.modules.get(cls.__module__), "__doc__", None) or ""
    summary = doc.strip().split("\n\n")[0].replace("\n", " ") if doc else ""
    return StrategyInfo(name, source, timeframe, summary, tuple(params))


def timeframe_text(minutes: int | None) -> str:
    if minutes is None:
        return "?"
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def infos(builtins: Mapping[str, StrategyClass]) -> list[StrategyInfo | tuple[str, str, str]]:
    """Every strategy described, or (name, source, why it cannot load) for a broken plugin."""
    out: list[StrategyInfo | tuple[str, str, str]] = []
    for name, source, found in available(builtins):
        if isinstance(found, str):
            out.append((name, source, found))
        else:
            out.append(describe(name, source, found))
    return out


MAX_DEFAULT_CHARS = 60


def render(entries: Iterable[StrategyInfo | tuple[str, str, str]]) -> str:
    """Plain aligned text (for ``alphadesk strategies`` and ``backtest --help``)."""
    blocks: list[str] = []
    for entry in entries:
        if isinstance(entry, tuple):
            name, source, why = entry
            blocks.append(f"{name}  [{source}]  cannot be loaded: {why}")
            continue
        lines = [f"{entry.name}  [{entry.source}]  timeframe {timeframe_text(entry.timeframe_min)}"]
        if entry.summary:
            lines.append(f"  {entry.summary}")
        rows = [("parameter", "type", "default")] + [
            (p.name, p.type_name, _clip(p.default)) for p in entry.params
        ]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines.extend(f"    {a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _clip(text: str) -> str:
    if len(text) <= MAX_DEFAULT_CHARS:
        return text
    items = text.count(",") + 1
    return f"{text[: MAX_DEFAULT_CHARS - 12].rsplit(',', 1)[0]},… ({items} items)"
